"""Consent, export, erasure (a scan of every table and file), retention and the register."""

import csv
import datetime
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.db.models import Count, Q, Sum
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework.test import APIClient

from activities.tests.factories import ActivityFactory
from contacts.models import Contact
from contacts.tests.factories import ContactFactory, OrganizationFactory
from documents.services import document_upload
from imports.services import import_job_create
from mail.models import EmailAttachment, EmailMessage
from mail.services import email_import
from mail.tests.messages import raw_message
from notes.models import Note
from notes.services import note_create
from notifications.services import notify
from opportunities.models import Opportunity
from opportunities.services import opportunity_update
from opportunities.tests.factories import OpportunityFactory
from privacy.models import Consent, ErasureLog, LegalHold, PrivacySettings, RetentionReview
from privacy.services import ErasureRefused, consent_record, contact_erase, contact_export, retention_review_refresh
from quotes.tests.factories import QuoteFactory
from webforms.models import Submission
from webforms.services import Visit, submission_receive
from webforms.tests.factories import WebFormFactory

pytestmark = pytest.mark.django_db

NAME, SURNAME, EMAIL, PHONE = "Zebulon", "Quackenbush", "zebulon.q@example.org", "+39 02 8765 4321"
TRACES = [NAME, SURNAME, EMAIL, "8765 4321", "87654321"]
VISITOR_IP, VISITOR_BROWSER = "203.0.113.77", "Mozilla/5.0 (X11; Linux) Firefox/133.0"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _person(owner, media):
    """A contact with something in every kind of related record, the audit trail, the outbox, the
    API's idempotency records, a webhook payload, an import file and uploaded documents."""
    org = OrganizationFactory(owner=owner, name="Ditta Uno S.r.l.")
    response = api(owner).post(
        "/api/v1/contacts/",
        {
            "first_name": NAME,
            "last_name": SURNAME,
            "email": EMAIL,
            "phone": PHONE,
            "organization": org.pk,
            "notes": "vip",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert response.status_code == 201, response.content
    person = Contact.objects.get(pk=response.json()["id"])
    other = ContactFactory(organization=org, owner=owner, first_name="Altro", last_name="Cliente", email="a@b.it")
    deal = OpportunityFactory(
        organization=org, contact=person, owner=owner, name=f"Fornitura {SURNAME}", amount=Decimal("1500.00")
    )
    opportunity_update(opportunity=deal, user=owner, data={"contact": other})  # audit trail: old value = the name
    opportunity_update(opportunity=deal, user=owner, data={"contact": person})
    OpportunityFactory(organization=org, contact=person, owner=owner, amount=Decimal("250.00"))
    QuoteFactory(organization=org, contact=person, owner=owner)
    ActivityFactory(contact=person, owner=owner, subject=f"Chiamare {NAME} {SURNAME}", notes=f"scrivere a {EMAIL}")
    document_upload(
        user=owner, file=SimpleUploadedFile(f"cv_{SURNAME}.txt", f"CV di {NAME} {SURNAME}".encode()), contact=person
    )
    document_upload(
        user=owner,
        file=SimpleUploadedFile("verbale.txt", f"presente {NAME} {SURNAME}, tel {PHONE}".encode()),
        opportunity=deal,
    )
    rows = f"Nome,Cognome,Email\n{NAME},{SURNAME},{EMAIL}\nAltro,Cliente,a@b.it\n".encode()
    import_job_create(user=owner, kind="contact", file=SimpleUploadedFile("contatti.csv", rows))
    consent_record(
        contact=person,
        purpose="marketing e-mail",
        given=True,
        method="web_form",
        text="Acconsento",
        source="Modulo sito",
    )
    # An e-mail from them with an attachment (stored as a document of the contact), a note on
    # them, a note on the organization that names them, a web-form submission and the bell.
    email_import(
        raw=raw_message(
            sender=f"{NAME} {SURNAME} <{EMAIL}>",
            to="vendite@example.com",
            subject=f"Richiesta preventivo {SURNAME}",
            body=f"Buongiorno, sono {NAME}.\nMi richiamate al {PHONE}?\n{NAME}",
            html=f"<p>Buongiorno, sono <b>{NAME}</b> ({EMAIL})</p>",
            attachments=[(f"ordine_{SURNAME}.txt", f"Ordine firmato da {NAME} {SURNAME}".encode(), "text", "plain")],
        )
    )
    note_create(user=owner, record=person, body=f"{NAME} preferisce essere chiamato dopo le 15 ({PHONE})")
    note_create(user=owner, record=org, body=f"Referente: {NAME} {SURNAME}, scrivere a {EMAIL}")
    webform = WebFormFactory(owner=owner, assignee=owner)
    submission_receive(
        webform=webform,
        fields={"name": f"{NAME} {SURNAME}", "email": EMAIL, "phone": PHONE, "message": f"Sono {NAME}, richiamatemi"},
        visit=Visit(ip=VISITOR_IP, user_agent=VISITOR_BROWSER, page_url=f"https://example.com/?ref={SURNAME}"),
    )
    assert notify(owner, "web_lead", text=f"Nuovo contatto: {NAME} {SURNAME}", record=deal) is not None
    from integrations.models import WebhookDelivery, WebhookSubscription

    sub = WebhookSubscription.objects.create(
        owner=owner, target_url="https://example.com/hook", secret="s" * 32, events=["contact.created"]
    )
    WebhookDelivery.objects.create(
        subscription=sub,
        event_id=1,
        topic="contact.created",
        payload={"contact": {"name": f"{NAME} {SURNAME}", "email": EMAIL}},
    )
    return person, org, deal


def _traces() -> list[str]:
    """Every text, JSON and file column of every table, and every stored file, that holds a trace."""
    found = []
    for model in apps.get_models():
        if model._meta.label in {"privacy.ErasureLog", "accounts.User", "sessions.Session"}:
            continue
        for field in model._meta.concrete_fields:
            kind = field.get_internal_type()
            if kind in {"CharField", "TextField", "EmailField", "URLField", "SlugField", "FileField"}:
                lookup, qs = f"{field.attname}__icontains", model._base_manager.all()
            elif kind == "JSONField":
                qs = model._base_manager.annotate(_t=Cast(field.attname, models.TextField()))
                lookup = "_t__icontains"
            else:
                continue
            for trace in TRACES:
                if qs.filter(Q(**{lookup: trace})).exists():
                    found.append(f"{model._meta.label}.{field.name}: {trace}")
    return found


def _file_traces(media: Path) -> list[str]:
    found = []
    for path in media.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "ignore").lower()
            found += [f"{path.name}: {t}" for t in TRACES if t.lower() in text or t.lower() in path.name.lower()]
    return found


def _totals():
    return Opportunity.objects.aggregate(n=Count("id"), amount=Sum("amount"))


def test_after_erasing_no_table_and_no_file_holds_the_name_email_or_phone(crm_admin, pipeline, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    person, org, deal = _person(crm_admin, tmp_path)
    found = "\n".join(_traces())
    for table in ("mail.EmailMessage.text_body", "mail.EmailAttachment.filename", "notes.Note.body"):
        assert table in found  # the scan finds them before
    assert "webforms.Submission.data" in found and "notifications.Notification.text" in found
    assert _file_traces(tmp_path)
    submission = Submission.objects.get(contact=person)
    assert submission.ip == VISITOR_IP
    before = _totals()

    log = contact_erase(user=crm_admin, contact=person)

    leftover = _traces()
    assert leftover == []
    assert _file_traces(tmp_path) == []
    assert _totals() == before
    person.refresh_from_db()
    assert person.full_name == "[erased]" and person.opportunities.count() == 3
    # what only the person's own records held, beyond their name, e-mail and phone
    submission.refresh_from_db()
    assert submission.ip is None and submission.user_agent == "" and submission.data["name"] == "[erased]"
    assert submission.data["message"] == "[erased]"
    assert EmailMessage.objects.filter(contacts=person).count() == 1  # kept, scrubbed
    assert Note.objects.filter(contact=person).count() == 1
    attachment = EmailAttachment.objects.get()
    assert attachment.document.file.read() == b"[erased]\n"
    assert Contact.objects.get(email="a@b.it").full_name == "Altro Cliente"  # others untouched
    logged = json.dumps({"replaced": log.replaced, "files": log.files})
    assert all(t.lower() not in logged.lower() for t in TRACES)
    assert ErasureLog.objects.count() == 1 and log.files >= 2


def test_erasure_is_refused_under_legal_hold_and_for_non_admins(crm_admin, rep):
    person = ContactFactory(owner=rep, first_name=NAME, last_name=SURNAME)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        contact_erase(user=rep, contact=person)
    LegalHold.objects.create(contact=person, reason="Contenzioso", set_by=crm_admin)
    with pytest.raises(ErasureRefused):
        contact_erase(user=crm_admin, contact=person)
    person.refresh_from_db()
    assert person.last_name == SURNAME and ErasureLog.objects.count() == 0


def test_the_erase_page_erases_after_confirmation(client, crm_admin):
    person = ContactFactory(owner=crm_admin, first_name=NAME, last_name=SURNAME)
    client.force_login(crm_admin)
    assert client.get(f"/privacy/contacts/{person.pk}/erase/").status_code == 200
    client.post(f"/privacy/contacts/{person.pk}/erase/", {})
    person.refresh_from_db()
    assert person.last_name == SURNAME
    assert client.post(f"/privacy/contacts/{person.pk}/erase/", {"confirm": "1"}).status_code == 302
    person.refresh_from_db()
    assert person.full_name == "[erased]"


def test_the_export_holds_every_related_record_counted(rep, pipeline, settings, tmp_path, client):
    settings.MEDIA_ROOT = tmp_path
    person, org, deal = _person(rep, tmp_path)
    data, counts = contact_export(user=rep, contact=person)
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    expected = {
        "deals": 3,  # two, and the web form's
        "quotes": 1,
        "activities": 1,
        "documents": 2,  # the CV and the e-mail's attachment
        "consents": 1,
        "emails": 1,
        "email_attachments": 1,
        "notes": 2,  # on them, and on their organization naming them
        "web_form_submissions": 1,
        "notifications": 1,
        "deal_history": Opportunity.objects.get(pk=deal.pk).field_changes.count() + 0,
    }
    for kind, n in expected.items():
        assert counts[kind] == n, kind
        assert len(json.loads(archive.read(f"{kind}.json"))) == n
        assert len(list(csv.reader(io.StringIO(archive.read(f"{kind}.csv").decode())))) == (n + 1 if n else 0)
        assert f"{kind}.json" in names
    contact = json.loads(archive.read("contact.json"))
    assert contact["email"] == EMAIL and contact["organization_name"] == org.name
    assert any(n.startswith("files/documents/") for n in names)
    [email] = json.loads(archive.read("emails.json"))
    assert email["from_address"] == EMAIL and NAME in email["text_body"]
    [submission] = json.loads(archive.read("web_form_submissions.json"))
    assert submission["ip"] == VISITOR_IP and submission["user_agent"] == VISITOR_BROWSER
    assert json.loads(archive.read("manifest.json"))["rows"] == counts
    client.force_login(rep)
    response = client.get(f"/privacy/contacts/{person.pk}/export/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"


def test_export_is_only_for_those_who_may_see_the_contact(client, rep, other_rep):
    person = ContactFactory(owner=other_rep)
    client.force_login(rep)
    assert client.get(f"/privacy/contacts/{person.pk}/export/").status_code == 404


def test_consent_is_recorded_shown_on_the_contact_page_and_in_the_api(client, rep):
    person = ContactFactory(owner=rep)
    consent_record(
        contact=person, purpose="marketing e-mail", given=True, method="web_form", text="Acconsento alle e-mail"
    )
    consent_record(contact=person, purpose="marketing e-mail", given=False, method=Consent.Method.MANUAL, user=rep)
    client.force_login(rep)
    html = client.get(person.get_absolute_url()).content.decode()
    panel = html[html.index('data-testid="privacy-panel"') :]
    assert "marketing e-mail" in panel and "withdrawn" in panel
    response = api(rep).post(
        f"/api/v1/contacts/{person.pk}/consents/",
        {"purpose": "newsletter", "given": True, "text": "Sì"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["method"] == "api"
    listing = api(rep).get(f"/api/v1/contacts/{person.pk}/consents/").json()
    assert len(listing) == 3
    response = api(rep).post(f"/api/v1/contacts/{person.pk}/consents/", {"purpose": " ", "given": True}, format="json")
    assert response.status_code == 400 and "purpose" in response.json()["error"]["fields"]


def test_the_consent_form_records_one(client, rep):
    person = ContactFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        f"/privacy/contacts/{person.pk}/consents/new/",
        {"purpose": "telefonate", "given": "1", "method": "manual", "text": "ok", "source": ""},
    )
    assert response.status_code == 302
    assert Consent.objects.get(contact=person).given is True


def test_retention_lists_contacts_with_no_activity_and_deletes_nothing(rep):
    settings = PrivacySettings.current()
    settings.retention_days = 30
    settings.save()
    old = ContactFactory(owner=rep)
    busy = ContactFactory(owner=rep)
    Contact.objects.filter(pk__in=[old.pk, busy.pk]).update(updated_at=timezone.now() - datetime.timedelta(days=90))
    ActivityFactory(contact=busy, owner=rep)
    fresh = ContactFactory(owner=rep)

    assert retention_review_refresh() == 1
    assert list(RetentionReview.objects.values_list("contact_id", flat=True)) == [old.pk]
    assert Contact.objects.filter(pk__in=[old.pk, busy.pk, fresh.pk]).count() == 3
    from privacy.tasks import retention_review_list

    assert retention_review_list() == 1


def test_a_recent_email_note_or_web_form_submission_counts_as_activity(rep, pipeline):
    """The newer apps keep a contact alive too: only the one with nothing recent is listed."""
    settings = PrivacySettings.current()
    settings.retention_days = 30
    settings.save()
    people = {k: ContactFactory(owner=rep, email=f"{k}@example.org") for k in ("mail", "note", "form", "idle")}
    email_import(raw=raw_message(sender="mail@example.org", to="vendite@example.com"))
    note_create(user=rep, record=people["note"], body="Sentito ieri")
    submission_receive(
        webform=WebFormFactory(owner=rep, assignee=rep),
        fields={"name": "F", "email": "form@example.org"},
        visit=Visit(),
    )
    long_ago = timezone.now() - datetime.timedelta(days=90)
    Contact.objects.filter(pk__in=[p.pk for p in people.values()]).update(updated_at=long_ago)
    Opportunity.objects.filter(contact=people["form"]).update(updated_at=long_ago)

    assert retention_review_refresh() == 1
    assert RetentionReview.objects.get().contact == people["idle"]


def test_the_processing_register_is_for_administrators(client, rep, crm_admin):
    client.force_login(rep)
    assert client.get("/privacy/register/").status_code == 403
    client.force_login(crm_admin)
    html = client.get("/privacy/register/").content.decode()
    assert 'data-testid="register-kinds"' in html and "opportunities_opportunity" in html
    for table in ("mail_emailmessage", "mail_emailattachment", "notes_note", "webforms_submission"):
        assert table in html  # the newer apps are in the register, with why
    assert "Answering requests sent through the website" in html
    assert client.post("/privacy/register/", {"retention_days": "365"}).status_code == 302
    assert PrivacySettings.current().retention_days == 365
    idle = ContactFactory(owner=rep, first_name="Dormiente", last_name="Da Rivedere")
    Contact.objects.filter(pk=idle.pk).update(updated_at=timezone.now() - datetime.timedelta(days=400))
    retention_review_refresh()
    held = ContactFactory(owner=rep, first_name="Trattenuto")
    LegalHold.objects.create(contact=held, reason="Verifica fiscale 2026", set_by=crm_admin)
    html = client.get("/privacy/register/").content.decode()
    reviews = html[html.index('data-testid="retention-reviews"') :]
    assert "Dormiente Da Rivedere" in reviews and idle.get_absolute_url() in reviews
    holds = html[html.index('data-testid="legal-holds"') :]
    assert "Verifica fiscale 2026" in holds and f"/privacy/contacts/{held.pk}/legal-hold/" in holds
