"""The related kinds that exist today, registered from PrivacyConfig.ready()."""

from functools import reduce
from operator import or_

from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .registry import RelatedKind, register


def _deal_audit_rows(target, record):
    from opportunities.models import OpportunityChange

    field = "opportunity__contact" if target == "contact" else "opportunity__organization"
    return OpportunityChange.objects.filter(**{field: record})


def _stage_change_rows(target, record):
    from pipeline.models import StageChange

    field = "opportunity__contact" if target == "contact" else "opportunity__organization"
    return StageChange.objects.filter(**{field: record})


def _quote_line_rows(target, record):
    from quotes.models import QuoteLine

    return QuoteLine.objects.filter(**{f"quote__{target}": record})


def _consent_rows(target, record):
    from .models import Consent

    if target != "contact":
        return Consent.objects.none()
    return Consent.objects.filter(contact=record)


def _naming(field: str, record) -> Q:
    """Rows whose ``field`` names the person: their full name (either way round) or e-mail."""
    first, last = record.first_name.strip(), record.last_name.strip()
    terms = {f"{first} {last}", f"{last} {first}"} if first and last else set()
    if record.email.strip():
        terms.add(record.email.strip())
    terms = {t for t in terms if len(t) >= 3}
    return reduce(or_, [Q(**{f"{field}__icontains": t}) for t in sorted(terms)], Q(pk__in=[]))


def _note_rows(target, record):
    """Notes on the person or their deals, and every note elsewhere that names them."""
    from notes.models import Note

    if target != "contact":
        return Note.objects.filter(organization=record)
    return Note.objects.filter(Q(contact=record) | Q(opportunity__contact=record) | _naming("body", record)).distinct()


def _email_rows(target, record):
    """E-mails linked to the person (sent to, from or copying them), and those from their address."""
    from mail.models import EmailMessage

    if target != "contact":
        return EmailMessage._base_manager.filter(organizations=record).distinct()
    q = Q(contacts=record)
    if record.email.strip():
        q |= Q(from_address__iexact=record.email.strip())
    return EmailMessage._base_manager.filter(q).distinct()


def _email_attachment_rows(target, record):
    from mail.models import EmailAttachment

    messages = _email_rows(target, record).values("pk")
    return EmailAttachment.objects.filter(message__in=messages)


def _move_emails(target, from_ids, survivor) -> int:
    """The merged records' e-mails are linked to the survivor instead (a many-to-many link)."""
    from mail.models import EmailMessage

    through = (EmailMessage.contacts if target == "contact" else EmailMessage.organizations).through
    column = f"{target}_id"
    links = through.objects.filter(**{f"{column}__in": from_ids})
    message_ids = set(links.values_list("emailmessage_id", flat=True))
    linked = set(
        through.objects.filter(**{column: survivor.pk, "emailmessage_id__in": message_ids}).values_list(
            "emailmessage_id", flat=True
        )
    )
    through.objects.bulk_create([through(emailmessage_id=m, **{column: survivor.pk}) for m in message_ids - linked])
    links.delete()
    return len(message_ids)


def _submission_rows(target, record):
    """Web-form submissions that became this contact, and those sent from their address (held for
    review or rejected ones too)."""
    from webforms.models import Submission

    if target != "contact":
        return Submission.objects.filter(organization=record)
    q = Q(contact=record)
    if record.email.strip():
        q |= Q(email__iexact=record.email.strip())
    return Submission.objects.filter(q)


# What a visitor typed about themselves; the company and its VAT number are the organization's.
PERSONAL_FORM_FIELDS = ("name", "email", "phone", "message")


def _erase_submissions(queryset, terms):
    """Their answers, address, IP and browser go: the submission stays for the form's statistics."""
    from webforms.models import Submission

    for submission in queryset:
        data = dict(submission.data or {})
        for key in PERSONAL_FORM_FIELDS:
            if data.get(key):
                data[key] = "[erased]"
        Submission.objects.filter(pk=submission.pk).update(
            data=data, email="", ip=None, user_agent="", page_url="", referrer=""
        )


def _erase_email_attachments(queryset, terms):
    """A file the person sent is about them: the stored copy is replaced by a placeholder (files
    others sent them are scrubbed of their name, e-mail and phone like every stored file)."""
    from documents.models import Document

    emails = [t for t in terms if "@" in t]
    sent = queryset.filter(message__outgoing=False)
    if emails:
        sent = sent.filter(reduce(or_, [Q(message__from_address__iexact=e) for e in emails]))
    else:
        sent = sent.none()
    _erase_files(Document.objects.filter(pk__in=sent.exclude(document=None).values("document_id")))
    sent.update(filename="erased.txt")


def _notification_rows(target, record):
    """Notifications (the bell) whose text names the person."""
    from notifications.models import Notification

    if target != "contact":
        return Notification.objects.none()
    return Notification.objects.filter(_naming("text", record))


def _erase_files(documents):
    for doc in documents:
        if doc.file:
            name = doc.file.name
            doc.file.storage.delete(name)
            doc.file.save("erased.txt", ContentFile(b"[erased]\n"), save=False)
        doc.original_name = "erased.txt"
        doc.content_type = "text/plain"
        doc.size = len(b"[erased]\n")
        doc.description = ""
        doc.save(update_fields=["file", "original_name", "content_type", "size", "description"])


def _erase_document_files(queryset, terms):
    """A document attached to the person is about them: its file is replaced by a placeholder."""
    _erase_files(queryset.filter(contact__isnull=False))


RELATION = _("Managing the relation with customers and prospects")
ACCOUNTABILITY = _("Accountability: who changed what on a deal, and when")
QUOTING = _("Quoting what is sold")
CORRESPONDENCE = _("Keeping the correspondence with the person, filed with their deals")


def register_existing_kinds() -> None:
    register(RelatedKind("contacts", "contacts.Contact", organization_field="organization", purpose=RELATION))
    register(RelatedKind("subsidiaries", "contacts.Organization", organization_field="parent", purpose=RELATION))
    register(
        RelatedKind(
            "deals",
            "opportunities.Opportunity",
            "contact",
            "organization",
            personal_text_fields=("name", "description"),
            purpose=_("Selling: offers, negotiations and their outcome"),
        )
    )
    register(
        RelatedKind(
            "deal_history",
            "opportunities.OpportunityChange",
            rows=_deal_audit_rows,
            movable=False,
            personal_text_fields=("old_value", "new_value"),
            purpose=ACCOUNTABILITY,
        )
    )
    register(
        RelatedKind(
            "stage_history", "pipeline.StageChange", rows=_stage_change_rows, movable=False, purpose=ACCOUNTABILITY
        )
    )
    register(RelatedKind("quotes", "quotes.Quote", "contact", "organization", purpose=QUOTING))
    register(RelatedKind("quote_lines", "quotes.QuoteLine", rows=_quote_line_rows, movable=False, purpose=QUOTING))
    register(
        RelatedKind(
            "documents",
            "documents.Document",
            "contact",
            "organization",
            erase=_erase_document_files,
            purpose=_("Keeping the documents exchanged with the customer"),
        )
    )
    register(
        RelatedKind(
            "activities",
            "activities.Activity",
            "contact",
            "organization",
            personal_text_fields=("subject", "notes"),
            purpose=_("Planning and recording calls, meetings and tasks"),
        )
    )
    register(
        RelatedKind(
            "consents",
            "privacy.Consent",
            "contact",
            rows=_consent_rows,
            purpose=_("Proof of the consent given or withdrawn (GDPR art. 7)"),
        )
    )
    register(
        RelatedKind(
            "notes",
            "notes.Note",
            "contact",
            "organization",
            rows=_note_rows,
            personal_text_fields=("body",),
            purpose=_("Remembering what was said and agreed with the person"),
        )
    )
    register(
        RelatedKind(
            "emails",
            "mail.EmailMessage",
            rows=_email_rows,
            mover=_move_emails,
            purpose=CORRESPONDENCE,
            personal_text_fields=("subject", "from_name", "text_body", "html_body"),
        )
    )
    register(
        RelatedKind(
            "email_attachments",
            "mail.EmailAttachment",
            rows=_email_attachment_rows,
            movable=False,
            personal_text_fields=("filename",),
            erase=_erase_email_attachments,
            purpose=CORRESPONDENCE,
        )
    )
    register(
        RelatedKind(
            "web_form_submissions",
            "webforms.Submission",
            "contact",
            "organization",
            rows=_submission_rows,
            erase=_erase_submissions,
            purpose=_("Answering requests sent through the website; the IP address and browser to spot abuse"),
        )
    )
    register(
        RelatedKind(
            "notifications",
            "notifications.Notification",
            rows=_notification_rows,
            movable=False,
            personal_text_fields=("text",),
            purpose=_("Telling users about their records"),
        )
    )
