"""Records one may see do not carry along the records of others that hang on them."""

import pytest

from activities.tests.factories import ActivityFactory
from contacts.tests.factories import ContactFactory
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def test_an_organization_or_contact_seen_through_a_deal_does_not_show_the_owners_activities(client, rep, other_rep):
    """Sud's rep has a deal with Nord's organization, so sees it; Nord's calls on it stay Nord's."""
    org_deal = OpportunityFactory(owner=rep)
    contact = ContactFactory(owner=rep, organization=org_deal.organization)
    OpportunityFactory(owner=other_rep, organization=org_deal.organization, contact=contact)
    ActivityFactory(owner=rep, organization=org_deal.organization, subject="Chiamata riservata Nord")
    ActivityFactory(owner=rep, contact=contact, subject="Pranzo riservato Nord")
    ActivityFactory(owner=other_rep, organization=org_deal.organization, subject="Visita Sud")

    client.force_login(other_rep)
    org_page = client.get(org_deal.organization.get_absolute_url()).content.decode()
    contact_page = client.get(contact.get_absolute_url()).content.decode()

    assert "Visita Sud" in org_page
    assert "Chiamata riservata Nord" not in org_page
    assert "Pranzo riservato Nord" not in contact_page
    client.force_login(rep)
    assert "Chiamata riservata Nord" in client.get(org_deal.organization.get_absolute_url()).content.decode()
