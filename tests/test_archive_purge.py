"""Delete = archive; a manager restores; only an admin purges, after confirmation; an organization
that still has deals cannot be archived. Services, pages and API."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.urls import reverse

from activities.tests.factories import ActivityFactory
from contacts import services as contact_services
from contacts.models import Contact, Organization
from contacts.tests.factories import ContactFactory, OrganizationFactory
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


# --- pages ----------------------------------------------------------------------------------------


ARCHIVE_URL = {
    "deal": "opportunities:archive",
    "organization": "contacts:organization_archive",
    "contact": "contacts:contact_archive",
}
PURGE_URL = {
    "deal": "opportunities:purge",
    "organization": "contacts:organization_purge",
    "contact": "contacts:contact_purge",
}


def _record(kind, owner):
    if kind == "deal":
        return OpportunityFactory(owner=owner, name="Fornitura 2027")
    if kind == "organization":
        return OrganizationFactory(owner=owner, name="Bianchi S.p.A.")
    return ContactFactory(owner=owner, organization=None, first_name="Lucia", last_name="Verdi")


def _label(obj):
    return obj.full_name if isinstance(obj, Contact) else obj.name


@pytest.mark.parametrize("kind", ["deal", "organization", "contact"])
def test_pages_a_rep_archives_a_manager_restores_an_admin_purges_after_typing_the_name(
    client, rep, manager, crm_admin, kind
):
    obj = _record(kind, rep)
    model = type(obj)
    archive = reverse(ARCHIVE_URL[kind], args=[obj.pk])
    purge = reverse(PURGE_URL[kind], args=[obj.pk])

    client.force_login(rep)
    assert client.post(archive).status_code == 302
    assert model.objects.get(pk=obj.pk).archived_at is not None
    # The owner rep may archive but not bring it back.
    assert client.post(archive, {"restore": "1"}).status_code == 403
    assert model.objects.get(pk=obj.pk).archived_at is not None

    client.force_login(manager)
    assert client.post(archive, {"restore": "1"}).status_code == 302
    assert model.objects.get(pk=obj.pk).archived_at is None
    client.post(archive)
    assert client.get(purge).status_code == 403
    assert client.post(purge, {"confirm": _label(obj)}).status_code == 403

    client.force_login(crm_admin)
    page = client.get(purge)
    assert page.status_code == 200
    assert "cannot be undone" in page.content.decode()
    wrong = client.post(purge, {"confirm": "yes"})
    assert wrong.status_code == 200
    assert "Type the name exactly" in wrong.content.decode()
    assert model.objects.filter(pk=obj.pk).exists()
    done = client.post(purge, {"confirm": _label(obj)})
    assert done.status_code == 302
    assert not model.objects.filter(pk=obj.pk).exists()


def test_page_purging_a_record_that_is_not_archived_is_refused_with_the_reason(client, rep, crm_admin):
    deal = OpportunityFactory(owner=rep)
    client.force_login(crm_admin)

    response = client.post(reverse("opportunities:purge", args=[deal.pk]), {"confirm": deal.name}, follow=True)

    assert "Archive" in response.content.decode() and "before deleting it for good" in response.content.decode()
    assert Opportunity.objects.filter(pk=deal.pk).exists()


def test_page_archiving_an_organization_with_deals_shows_the_reason(client, rep):
    deal = OpportunityFactory(owner=rep)
    client.force_login(rep)

    response = client.post(reverse("contacts:organization_archive", args=[deal.organization.pk]), follow=True)

    assert "still has 1 deal(s). Archive or move them to another organization first." in response.content.decode()
    deal.organization.refresh_from_db()
    assert deal.organization.archived_at is None


def test_the_purge_button_shows_only_to_admins_on_archived_records(client, rep, manager, crm_admin):
    deal = OpportunityFactory(owner=rep)
    opportunity_services.opportunity_archive(opportunity=deal, user=rep)
    url = deal.get_absolute_url()
    purge = reverse("opportunities:purge", args=[deal.pk])

    client.force_login(manager)
    assert purge not in client.get(url).content.decode()
    client.force_login(crm_admin)
    assert purge in client.get(url).content.decode()


# --- API ------------------------------------------------------------------------------------------


API_BASE = {"deal": "/api/v1/opportunities/", "organization": "/api/v1/organizations/", "contact": "/api/v1/contacts/"}


@pytest.mark.parametrize("kind", ["deal", "organization", "contact"])
def test_api_delete_archives_restore_is_for_managers_purge_for_admins_with_confirm(
    client, rep, manager, crm_admin, kind
):
    obj = _record(kind, rep)
    model = type(obj)
    detail = f"{API_BASE[kind]}{obj.pk}/"

    client.force_login(rep)
    assert client.delete(detail).status_code == 204
    assert model.objects.get(pk=obj.pk).archived_at is not None
    assert client.get(detail).json()["archived"] is True
    refused = client.post(f"{detail}restore/")
    assert refused.status_code == 403
    assert "manager" in refused.json()["error"]["message"]

    client.force_login(manager)
    restored = client.post(f"{detail}restore/")
    assert restored.status_code == 200
    assert restored.json()["archived"] is False
    client.delete(detail)
    assert client.post(f"{detail}purge/", {"confirm": True}, content_type="application/json").status_code == 403

    client.force_login(crm_admin)
    unconfirmed = client.post(f"{detail}purge/", {}, content_type="application/json")
    assert unconfirmed.status_code == 400
    assert "confirm" in unconfirmed.json()["error"]["fields"]
    assert client.post(f"{detail}purge/", {"confirm": True}, content_type="application/json").status_code == 204
    assert not model.objects.filter(pk=obj.pk).exists()
    assert client.get(detail).status_code == 404


def test_api_deleting_an_organization_with_deals_is_a_400_naming_the_reason(client, rep):
    deal = OpportunityFactory(owner=rep)
    client.force_login(rep)

    response = client.delete(f"/api/v1/organizations/{deal.organization.pk}/")

    assert response.status_code == 400
    assert "still has 1 deal(s)" in str(response.json()["error"]["fields"])
