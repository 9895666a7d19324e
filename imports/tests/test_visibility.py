"""Imports match only what the importer may see (security review, finding 3).

A rep of team Nord imports deals whose rows name an organization and a contact e-mail of team
Sud. The deals must not be linked to them, and the preview must read the same whether those
records exist (unseen) or not at all.
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.models import Contact, Organization
from contacts.tests.factories import ContactFactory, OrganizationFactory
from imports.models import ImportJob, ImportKind
from imports.readers import read_table
from imports.services import import_rows
from imports.tests.test_services import csv_bytes, run
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

DEALS = (
    "Deal;Cliente;Contatto;Importo\n"
    "Fornitura Sud;Meridionale S.p.A.;;1000\n"
    "Rinnovo Sud;Meridionale S.p.A.;gianni@meridionale.it;2000\n"
)


@pytest.fixture
def sud_records(other_rep):
    org = OrganizationFactory(owner=other_rep, name="Meridionale S.p.A.", city="Napoli")
    contact = ContactFactory(owner=other_rep, organization=org, email="gianni@meridionale.it", last_name="Esposito")
    OpportunityFactory(owner=other_rep, organization=org, contact=contact, name="Rinnovo Sud")
    return org, contact


def _mapped_job(client) -> ImportJob:
    upload = SimpleUploadedFile("trattative.csv", DEALS.encode())
    assert client.post(reverse("imports:start"), {"kind": "opportunity", "file": upload}).status_code == 302
    job = ImportJob.objects.get()
    mapping = {"name": "Deal", "organization": "Cliente", "contact": "Contatto", "amount": "Importo"}
    assert client.post(job.get_absolute_url(), mapping).status_code == 302
    return job


def _preview(client, job) -> str:
    html = client.get(reverse("imports:preview", args=[job.pk])).content.decode()
    # Only what changes on every response (the CSRF token, the CSP nonce) is set aside.
    return re.sub(r'(csrfmiddlewaretoken" value|nonce)="[^"]*"', r'\1=""', html)


def test_a_rep_importing_deals_is_not_linked_to_another_teams_records(
    client, rep, sud_records, django_capture_on_commit_callbacks
):
    sud_org, sud_contact = sud_records
    client.force_login(rep)
    job = _mapped_job(client)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:run", args=[job.pk]))
    job.refresh_from_db()
    assert (job.created_count, job.rejected_count) == (1, 1)

    deal = Opportunity.objects.get(name="Fornitura Sud")
    assert deal.owner == rep
    assert deal.organization != sud_org and deal.organization.owner == rep  # a new one, the rep's
    assert not Opportunity.objects.filter(owner=rep, contact=sud_contact).exists()
    assert not Opportunity.objects.filter(owner=rep, organization=sud_org).exists()
    sud_org.refresh_from_db()
    assert sud_org.city == "Napoli" and sud_org.owner != rep
    # The contact of Sud is "unknown" to the rep, as a missing one would be.
    body = b"".join(client.get(reverse("imports:rejected", args=[job.pk])).streaming_content).decode()
    assert "There is no contact gianni@meridionale.it." in body
    # And the rep's deal page shows nothing of Sud's.
    page = client.get(deal.get_absolute_url()).content.decode()
    assert "Napoli" not in page and "Esposito" not in page


def test_the_preview_reads_the_same_whether_an_unseen_record_exists_or_not(client, rep, sud_records):
    client.force_login(rep)
    job = _mapped_job(client)
    with_unseen_records = _preview(client, job)

    Opportunity.objects.all().delete()
    Contact.objects.all().delete()
    Organization.objects.all().delete()
    without_them = _preview(client, job)

    assert with_unseen_records == without_them
    assert 'data-count="created">1<' in without_them and "There is no contact gianni@meridionale.it." in without_them


@pytest.mark.parametrize("kind", [ImportKind.ORGANIZATION, ImportKind.CONTACT])
def test_organizations_and_contacts_match_only_records_the_importer_sees(rep, other_rep, kind):
    """By name, e-mail or external id: an unseen record is never updated (nor said to exist)."""
    org = OrganizationFactory(owner=other_rep, name="Meridionale S.p.A.", external_id="ERP-1", city="Napoli")
    contact = ContactFactory(owner=other_rep, organization=org, email="gianni@meridionale.it", external_id="C-1")
    if kind == ImportKind.ORGANIZATION:
        rows = [["Name", "City"], ["MERIDIONALE S.P.A.", "Pisa"]]
    else:
        rows = [["First name", "Last name", "E-mail", "Job title"], ["Gianni", "Esposito", contact.email, "CEO"]]
    result = run(kind, rows, rep)
    assert [o.action for o in result.outcomes] == ["created"]
    org.refresh_from_db()
    contact.refresh_from_db()
    assert (org.city, org.owner, contact.job_title, contact.owner) == ("Napoli", other_rep, "", other_rep)


def test_a_deal_is_matched_for_update_only_among_visible_deals_and_needs_editable(rep, teammate, other_rep):
    """An unseen deal with the row's name and customer is not touched (nor said to exist); a
    teammate's deal, which the rep sees, is refused because the rep may not change it."""
    theirs = OpportunityFactory(
        owner=other_rep, name="Rinnovo", amount=5, organization=OrganizationFactory(owner=other_rep, name="Sud srl")
    )
    mates = OpportunityFactory(
        owner=teammate, name="Ampliamento", amount=5, organization=OrganizationFactory(owner=teammate, name="Nord srl")
    )
    table = read_table(
        csv_bytes([["Deal", "Cliente", "Importo"], ["Rinnovo", "Sud srl", "9"], ["Ampliamento", "Nord srl", "9"]]),
        "d.csv",
    )
    mapping = {"name": "Deal", "organization": "Cliente", "amount": "Importo"}
    result = import_rows(kind=ImportKind.OPPORTUNITY, table=table, mapping=mapping, user=rep)
    assert [o.action for o in result.outcomes] == ["created", "rejected"]
    assert "you may not change it" in result.outcomes[1].reason
    assert Opportunity.objects.get(pk=theirs.pk).amount == 5 and Opportunity.objects.get(pk=mates.pk).amount == 5
    assert Opportunity.objects.get(owner=rep).organization.owner == rep
