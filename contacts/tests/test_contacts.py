"""Organizations and contacts: validation, visibility, pages and archiving."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from contacts.models import Contact, Organization
from contacts.services import contact_archive, organization_archive, organization_create, organization_update
from contacts.tests.factories import ContactFactory, OrganizationFactory, valid_partita_iva
from opportunities.services import opportunity_archive
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def test_a_valid_partita_iva_is_accepted_and_normalised(rep):
    vat = valid_partita_iva(1234567)
    org = organization_create(user=rep, data={"name": "Rossi S.r.l.", "vat_number": f" it{vat} "})
    assert org.vat_number == vat  # one canonical form: the 11 digits
    assert org.owner == rep


def test_an_invalid_partita_iva_is_refused_with_a_clear_message(rep):
    with pytest.raises(ValidationError) as excinfo:
        organization_create(user=rep, data={"name": "Bad VAT", "vat_number": "12345678901"})
    assert excinfo.value.message_dict["vat_number"] == [
        "12345678901 is not a valid Italian VAT number (partita IVA): check the 11 digits."
    ]


def test_an_eu_vat_number_is_accepted(rep):
    org = organization_create(user=rep, data={"name": "GmbH", "vat_number": "DE136695976", "country": "Deutschland"})
    assert org.vat_number == "DE136695976"


def test_fiscal_code_person_or_company(rep):
    org = organization_create(user=rep, data={"name": "Ditta", "fiscal_code": "RSSMRA85T10A562S"})
    assert org.fiscal_code == "RSSMRA85T10A562S"
    with pytest.raises(ValidationError) as excinfo:
        organization_create(user=rep, data={"name": "Ditta 2", "fiscal_code": "RSSMRA85T10A562X"})
    assert "fiscal_code" in excinfo.value.message_dict


def test_two_organizations_cannot_share_a_vat_number(rep):
    vat = valid_partita_iva(42)
    organization_create(user=rep, data={"name": "First", "vat_number": vat})
    with pytest.raises(ValidationError) as excinfo:
        organization_create(user=rep, data={"name": "Second", "vat_number": vat})
    assert excinfo.value.messages == ["Another organization already has this VAT number."]
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.create(name="Third", vat_number=vat)


def test_an_organization_cannot_be_its_own_ancestor(rep):
    parent = OrganizationFactory(owner=rep)
    child = OrganizationFactory(owner=rep, parent=parent)
    with pytest.raises(ValidationError) as excinfo:
        organization_update(organization=parent, user=rep, data={"parent": child})
    assert "parent" in excinfo.value.message_dict


def test_a_contact_needs_a_name(rep):
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(first_name="", last_name="", owner=rep)


def test_archiving_an_organization_with_deals_is_refused_with_a_clear_message(rep):
    deal = OpportunityFactory(owner=rep)
    org = deal.organization
    with pytest.raises(ValidationError) as excinfo:
        organization_archive(organization=org, user=rep)
    assert excinfo.value.messages == [
        f"{org.name} still has 1 deal(s). Archive or move them to another organization first."
    ]
    opportunity_archive(opportunity=deal, user=rep)
    assert organization_archive(organization=org, user=rep).is_archived


def test_archiving_the_only_customer_of_a_deal_is_refused(rep):
    contact = ContactFactory(owner=rep, organization=None)
    OpportunityFactory(owner=rep, organization=None, contact=contact)
    with pytest.raises(ValidationError):
        contact_archive(contact=contact, user=rep)


def test_organizations_are_visible_to_the_team_and_to_whoever_has_a_deal_with_them(rep, teammate, other_rep, manager):
    own = OrganizationFactory(owner=rep)
    teams = OrganizationFactory(owner=teammate)
    foreign = OrganizationFactory(owner=other_rep)
    shared = OrganizationFactory(owner=other_rep)
    OpportunityFactory(owner=rep, organization=shared)

    assert set(Organization.objects.visible_to(rep)) == {own, teams, shared}
    assert set(Organization.objects.editable_by(rep)) == {own}
    assert set(Organization.objects.editable_by(manager)) == {own, teams}
    assert foreign not in Organization.objects.visible_to(manager)


def test_contacts_follow_the_same_rule(rep, other_rep):
    own = ContactFactory(owner=rep)
    foreign = ContactFactory(owner=other_rep)
    client_contact = ContactFactory(owner=other_rep)
    OpportunityFactory(owner=rep, organization=client_contact.organization)
    visible = set(Contact.objects.visible_to(rep))
    assert own in visible
    assert client_contact in visible
    assert foreign not in visible


@pytest.mark.parametrize("count", [2, 20])
def test_organization_and_contact_lists_in_constant_queries(client, rep, count, django_assert_num_queries):
    for _ in range(count):
        ContactFactory(owner=rep)
    client.force_login(rep)
    # The first page after a change of the custom field definitions reads them (one query); every
    # later one finds them in the shared cache (customfields.selectors).
    with django_assert_num_queries(5):  # the owner filter searches (combobox) rather than listing every user
        assert client.get("/organizations/").status_code == 200
    with django_assert_num_queries(4):  # the user now comes from the cache
        assert client.get("/contacts/").status_code == 200


def test_create_organization_page_shows_field_errors(client, rep):
    client.force_login(rep)
    response = client.post("/organizations/new/", {"name": "", "vat_number": "123", "country": "Italia"})
    errors = response.context["form"].errors
    assert "name" in errors
    assert "vat_number" in errors
    assert not Organization.objects.exists()


def test_create_and_edit_organization_and_contact_pages(client, rep):
    client.force_login(rep)
    response = client.post(
        "/organizations/new/", {"name": "Officine Rossi S.r.l.", "country": "Italia", "owner": rep.pk}
    )
    org = Organization.objects.get(name="Officine Rossi S.r.l.")
    assert response["Location"] == org.get_absolute_url()

    response = client.post(
        "/contacts/new/", {"first_name": "Anna", "last_name": "Neri", "organization": org.pk, "owner": rep.pk}
    )
    contact = Contact.objects.get(last_name="Neri")
    assert response["Location"] == contact.get_absolute_url()
    page = client.get(org.get_absolute_url()).content.decode()
    assert "Anna Neri" in page

    client.post(
        f"/organizations/{org.pk}/edit/", {"name": "Officine Rossi S.p.A.", "country": "Italia", "owner": rep.pk}
    )
    assert Organization.objects.get(pk=org.pk).name == "Officine Rossi S.p.A."


def test_other_teams_organizations_are_404(client, rep, other_rep):
    org = OrganizationFactory(owner=other_rep)
    client.force_login(rep)
    assert client.get(org.get_absolute_url()).status_code == 404
    assert client.get(f"/organizations/{org.pk}/edit/").status_code == 404


def test_organization_export_lists_the_visible_filtered_rows(client, rep, other_rep):
    OrganizationFactory(owner=rep, name="Alfa S.r.l.", city="Torino")
    OrganizationFactory(owner=rep, name="Beta S.r.l.", city="Milano")
    OrganizationFactory(owner=other_rep, name="Hidden S.r.l.", city="Torino")
    client.force_login(rep)
    response = client.get("/organizations/?city=Torino&export=csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Alfa S.r.l." in body
    assert "Beta S.r.l." not in body
    assert "Hidden S.r.l." not in body
