"""The duplicates page and merging: every related record moves, with permissions."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from activities.tests.factories import ActivityFactory
from contacts.models import Contact
from contacts.tests.factories import ContactFactory, OrganizationFactory, valid_partita_iva
from dedupe.models import MergeEvent
from dedupe.services import records_merge
from documents.services import document_upload
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from quotes.tests.factories import QuoteFactory
from webforms.models import Submission

pytestmark = pytest.mark.django_db


def _related(org):
    return {
        "deals": Opportunity.objects.filter(organization=org).count(),
        "contacts": Contact.objects.filter(organization=org).count(),
        "activities": org.activities.count(),
        "documents": org.documents.count(),
        "quotes": org.quotes.count(),
        "subsidiaries": org.subsidiaries.count(),
    }


def _populate(org, owner, n):
    for i in range(n):
        OpportunityFactory(organization=org, owner=owner)
        ContactFactory(organization=org, owner=owner)
        ActivityFactory(organization=org, owner=owner)
        QuoteFactory(organization=org, owner=owner)
        OrganizationFactory(parent=org, owner=owner)
        document_upload(user=owner, file=SimpleUploadedFile(f"d{i}.txt", b"hello"), organization=org)


def test_merging_organizations_moves_every_related_record_and_archives_the_others(rep, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    survivor = OrganizationFactory(name="Rossi S.r.l.", owner=rep)
    a = OrganizationFactory(
        name="ROSSI SRL", owner=rep, vat_number=valid_partita_iva(3), city="Roma", province="RM", postal_code="00100"
    )
    b = OrganizationFactory(name="Rossi s.r.l", owner=rep)
    _populate(survivor, rep, 1)
    _populate(a, rep, 2)
    _populate(b, rep, 3)
    before = {k: _related(survivor)[k] + _related(a)[k] + _related(b)[k] for k in _related(survivor)}
    assert before == dict.fromkeys(before, 6)

    event = records_merge(
        user=rep,
        kind="organization",
        survivor_id=survivor.pk,
        merged_ids=[a.pk, b.pk],
        values={"vat_number": a.pk, "city": a.pk, "province": a.pk, "postal_code": a.pk},
    )

    assert _related(survivor) == before
    for other in (a, b):
        other.refresh_from_db()
        assert other.archived_at is not None and other.merged_into_id == survivor.pk
        assert _related(other) == dict.fromkeys(before, 0)
    survivor.refresh_from_db()
    assert survivor.vat_number == valid_partita_iva(3) and survivor.city == "Roma"
    assert event.merged_by == rep and event.merged_ids == [a.pk, b.pk]
    assert event.moved["deals"] == 5 and event.moved["contacts"] == 5


def test_merging_contacts_moves_deals_quotes_activities_documents(rep, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    org = OrganizationFactory(owner=rep)
    keep = ContactFactory(organization=org, owner=rep, email="anna@example.com")
    dup = ContactFactory(organization=org, owner=rep, email="ANNA@example.com", phone="0212345678")
    OpportunityFactory(organization=org, contact=dup, owner=rep)
    QuoteFactory(organization=None, contact=dup, owner=rep)
    ActivityFactory(contact=dup, owner=rep)
    document_upload(user=rep, file=SimpleUploadedFile("cv.txt", b"x"), contact=dup)

    records_merge(user=rep, kind="contact", survivor_id=keep.pk, merged_ids=[dup.pk], values={"phone": dup.pk})

    keep.refresh_from_db()
    assert keep.phone == "0212345678"
    assert (keep.opportunities.count(), keep.quotes.count(), keep.activities.count(), keep.documents.count()) == (
        1,
        1,
        1,
        1,
    )
    assert (dup.opportunities.count(), dup.quotes.count(), dup.activities.count(), dup.documents.count()) == (
        0,
        0,
        0,
        0,
    )


def test_merging_moves_notes_emails_web_form_submissions_and_consents(rep, webform_owner):
    from mail.services import email_import
    from mail.tests.messages import raw_message
    from notes.services import note_create
    from privacy.services import consent_record
    from webforms.services import Visit, submission_receive

    org = OrganizationFactory(owner=rep, email="info@rossi.example")
    other_org = OrganizationFactory(owner=rep, name="Rossi (doppione)")
    keep = ContactFactory(organization=org, owner=rep, email="anna@example.com")
    dup = ContactFactory(organization=other_org, owner=rep, email="anna.rossi@example.com")
    note_create(user=rep, record=dup, body="Richiamare")
    note_create(user=rep, record=other_org, body="Sede a Milano")
    email_import(raw=raw_message(sender="anna.rossi@example.com", to="vendite@example.com"))
    # one e-mail to both addresses: linked to both contacts, it must stay linked to the survivor once
    email_import(raw=raw_message(sender="vendite@example.com", to="anna@example.com, anna.rossi@example.com"))
    submission_receive(webform=webform_owner, fields={"name": "Anna Rossi", "email": dup.email}, visit=Visit())
    consent_record(contact=dup, purpose="newsletter", given=True)

    def counts(contact):
        return (
            contact.feed_notes.count(),
            contact.emails.count(),
            Submission.objects.filter(contact=contact).count(),
            contact.consents.count(),
        )

    assert counts(keep) == (0, 1, 0, 0) and counts(dup) == (1, 2, 1, 1)
    event = records_merge(user=rep, kind="contact", survivor_id=keep.pk, merged_ids=[dup.pk])
    assert counts(keep) == (1, 2, 1, 1) and counts(dup) == (0, 0, 0, 0)
    assert event.moved["notes"] == 1 and event.moved["emails"] == 2 and event.moved["web_form_submissions"] == 1

    before = (other_org.feed_notes.count() + org.feed_notes.count(), other_org.emails.count())
    assert before[1] >= 1
    records_merge(user=rep, kind="organization", survivor_id=org.pk, merged_ids=[other_org.pk])
    assert (org.feed_notes.count(), other_org.feed_notes.count()) == (before[0], 0)
    assert other_org.emails.count() == 0 and org.emails.count() >= before[1]


@pytest.fixture
def webform_owner(rep, pipeline):
    from webforms.tests.factories import WebFormFactory

    return WebFormFactory(owner=rep, assignee=rep)


def test_only_a_user_who_may_change_all_of_them_merges(rep, other_rep):
    mine = OrganizationFactory(owner=rep)
    theirs = OrganizationFactory(owner=other_rep)
    OpportunityFactory(organization=theirs, owner=rep)  # rep sees it through the deal, may not change it
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        records_merge(user=rep, kind="organization", survivor_id=mine.pk, merged_ids=[theirs.pk])
    theirs.refresh_from_db()
    assert theirs.archived_at is None
    assert MergeEvent.objects.count() == 0


def test_the_duplicates_page_lists_groups_with_reason_and_score_among_visible_records(
    client, rep, other_rep, django_assert_max_num_queries
):
    a = OrganizationFactory(name="Alfa S.r.l.", owner=rep)
    b = OrganizationFactory(name="ALFA SRL", owner=rep)
    OrganizationFactory(name="Alfa Srl", owner=other_rep)  # not visible to rep
    ContactFactory(email="x@example.com", owner=rep)
    ContactFactory(email="X@Example.com", owner=rep)
    client.force_login(rep)
    with django_assert_max_num_queries(12):
        html = client.get("/duplicates/?kind=organization").content.decode()
    assert a.get_absolute_url() in html and b.get_absolute_url() in html
    assert html.count("/organizations/") >= 2 and "60%" in html
    assert f"ids={a.pk},{b.pk}" in html
    html = client.get("/duplicates/?kind=contact").content.decode()
    assert "95%" in html


def test_the_duplicates_page_queries_do_not_grow_with_rows(client, rep, django_assert_max_num_queries):
    for i in range(30):
        OrganizationFactory(name=f"Beta {i % 10} S.p.A.", owner=rep)
    client.force_login(rep)
    with django_assert_max_num_queries(12):
        response = client.get("/duplicates/?kind=organization")
    assert response.content.decode().count('class="btn btn-sm btn-outline-primary"') == 10


def test_the_merge_page_merges_and_the_timeline_says_who_and_when(client, rep):
    keep = OrganizationFactory(name="Gamma S.r.l.", owner=rep)
    dup = OrganizationFactory(name="GAMMA SRL", owner=rep, sector="Edilizia")
    OpportunityFactory(organization=dup, owner=rep)
    client.force_login(rep)
    page = client.get(f"/duplicates/merge/?kind=organization&ids={keep.pk},{dup.pk}")
    assert page.status_code == 200 and 'data-testid="merge-table"' in page.content.decode()
    response = client.post(
        "/duplicates/merge/",
        {
            "kind": "organization",
            "ids": f"{keep.pk},{dup.pk}",
            "survivor": keep.pk,
            "field_sector": dup.pk,
            "field_name": keep.pk,
        },
    )
    assert response.status_code == 302
    keep.refresh_from_db()
    assert keep.sector == "Edilizia" and keep.opportunities.count() == 1
    html = client.get(keep.get_absolute_url()).content.decode()
    assert 'data-testid="merge-history"' in html and f"#{dup.pk}" in html and str(rep) in html


def test_the_api_merges_and_refuses_what_the_user_may_not_change(rep, other_rep):
    keep = ContactFactory(owner=rep)
    dup = ContactFactory(owner=rep)
    client = APIClient()
    client.force_authenticate(rep)
    response = client.post(
        "/api/v1/merges/", {"kind": "contact", "survivor": keep.pk, "merged": [dup.pk]}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["merged"] == [dup.pk]
    other = ContactFactory(owner=other_rep)  # one the rep does not see: as if it did not exist
    response = client.post(
        "/api/v1/merges/", {"kind": "contact", "survivor": keep.pk, "merged": [other.pk]}, format="json"
    )
    assert response.status_code == 400 and "merged" in response.json()["error"]["fields"]
    teammate_contact = ContactFactory(owner=UserFactory(team=rep.team))  # seen, not changeable
    response = client.post(
        "/api/v1/merges/", {"kind": "contact", "survivor": keep.pk, "merged": [teammate_contact.pk]}, format="json"
    )
    assert response.status_code == 403
    response = client.post("/api/v1/merges/", {"kind": "contact", "survivor": keep.pk, "merged": []}, format="json")
    assert response.status_code == 400 and "merged" in response.json()["error"]["fields"]
