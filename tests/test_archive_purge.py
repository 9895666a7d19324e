"""Delete = archive; a manager restores; only an admin purges, after confirmation; an organization
that still has deals cannot be archived. Services, pages and API."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile

from activities.tests.factories import ActivityFactory
from contacts import services as contact_services
from contacts.models import Contact, Organization
from contacts.tests.factories import ContactFactory
from core.exceptions import ValidationError
from core.models import OutboxEvent
from documents.models import Document
from documents.services import document_upload
from opportunities import services as opportunity_services
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from pipeline.models import StageChange
from quotes.tests.factories import QuoteFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _document(user, **parent):
    return document_upload(user=user, file=ContentFile(PDF, name="offerta.pdf"), **parent)


# --- services -------------------------------------------------------------------------------------


def test_an_admin_purges_an_archived_deal_with_its_history_documents_and_activities(
    rep, crm_admin, media, django_capture_on_commit_callbacks
):
    deal = OpportunityFactory(owner=rep)
    document = _document(rep, opportunity=deal)
    ActivityFactory(owner=rep, opportunity=deal)
    path = media / document.file.name
    assert path.exists()
    opportunity_services.opportunity_archive(opportunity=deal, user=rep)

    with django_capture_on_commit_callbacks(execute=True):
        opportunity_services.opportunity_purge(opportunity=deal, user=crm_admin)

    assert not Opportunity.objects.filter(pk=deal.pk).exists()
    assert not StageChange.objects.filter(opportunity_id=deal.pk).exists()
    assert not Document.objects.exists()
    assert not path.exists()
    event = OutboxEvent.objects.get(topic="opportunity.purged")
    assert event.payload["opportunity"]["id"] == deal.pk
    assert event.payload["changed_by"] == crm_admin.pk


def test_purging_needs_an_admin_and_an_archived_deal_without_quotes(rep, manager, crm_admin):
    deal = OpportunityFactory(owner=rep)

    with pytest.raises(ValidationError, match="Archive"):
        opportunity_services.opportunity_purge(opportunity=deal, user=crm_admin)
    opportunity_services.opportunity_archive(opportunity=deal, user=rep)
    for user in (rep, manager):
        with pytest.raises(PermissionDenied):
            opportunity_services.opportunity_purge(opportunity=deal, user=user)
    QuoteFactory(owner=rep, organization=deal.organization, opportunity=deal)
    with pytest.raises(ValidationError, match="1 quote"):
        opportunity_services.opportunity_purge(opportunity=deal, user=crm_admin)
    assert Opportunity.objects.filter(pk=deal.pk).exists()


def test_an_organization_is_purged_only_when_no_deal_refers_to_it_any_more(rep, crm_admin):
    deal = OpportunityFactory(owner=rep)
    org = deal.organization
    contact = ContactFactory(organization=org, owner=rep)
    opportunity_services.opportunity_archive(opportunity=deal, user=rep)
    contact_services.organization_archive(organization=org, user=rep)

    with pytest.raises(ValidationError, match="1 deal"):
        contact_services.organization_purge(organization=org, user=crm_admin)
    opportunity_services.opportunity_purge(opportunity=deal, user=crm_admin)
    contact_services.organization_purge(organization=org, user=crm_admin)

    assert not Organization.objects.filter(pk=org.pk).exists()
    contact.refresh_from_db()
    assert contact.organization is None  # the people stay


def test_a_contact_is_purged_by_an_admin_only(rep, manager, crm_admin):
    contact = ContactFactory(owner=rep, organization=None)
    contact_services.contact_archive(contact=contact, user=rep)

    with pytest.raises(PermissionDenied):
        contact_services.contact_purge(contact=contact, user=manager)
    contact_services.contact_purge(contact=contact, user=crm_admin)

    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert OutboxEvent.objects.filter(topic="contact.purged").count() == 1


def test_archiving_an_organization_that_still_has_deals_is_refused_with_a_clear_message(rep):
    deal = OpportunityFactory(owner=rep, name="Rinnovo")
    OpportunityFactory(owner=rep, organization=deal.organization)

    with pytest.raises(ValidationError) as refused:
        contact_services.organization_archive(organization=deal.organization, user=rep)

    assert f"{deal.organization.name} still has 2 deal(s)" in refused.value.messages[0]
    deal.organization.refresh_from_db()
    assert deal.organization.archived_at is None
