"""Every write of the e-mail feature: mailboxes, polling and import, matching, linking, sending."""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from imap_tools.errors import ImapToolsError

from accounts.models import User
from accounts.permissions import ChangeNotAllowed, sees_everything
from contacts.models import Contact, Organization
from core.exceptions import ValidationError
from core.metrics import EMAIL_POLLED_MESSAGES, EMAIL_POLLS
from core.outbox import event_emit, task_request
from documents.services import document_upload
from opportunities.models import Opportunity

from . import addresses, imap
from .crypto import secret_decrypt, secret_encrypt
from .models import (
    EmailAttachment,
    EmailMessage,
    EmailThread,
    LinkStatus,
    Mailbox,
    MailboxFolder,
    RejectedMessage,
    SendStatus,
)
from .parsing import ParsedMessage, UnreadableMessage, message_parse

logger = logging.getLogger(__name__)

FETCH_BATCH = 100


# --- mailboxes -----------------------------------------------------------------------------------


def _check_mailbox_owner(user, owner) -> None:
    if owner is None and not sees_everything(user):
        raise ChangeNotAllowed(_("Only an administrator may connect a shared mailbox."))
    if owner is not None and owner != user and not sees_everything(user):
        raise ChangeNotAllowed(_("You may connect only your own mailbox."))


@transaction.atomic
def mailbox_save(*, user, mailbox: Mailbox | None = None, password: str = "", **fields) -> Mailbox:
    """Create or change a mailbox. The password is encrypted at once; an empty one keeps the old."""
    mailbox = mailbox or Mailbox()
    for name, value in fields.items():
        setattr(mailbox, name, value)
    _check_mailbox_owner(user, mailbox.owner)
    if password:
        mailbox.password_encrypted = secret_encrypt(password)
    elif not mailbox.password_encrypted:
        raise ValidationError({"password": _("Enter the password of this mailbox.")})
    if not mailbox.folder_names:
        raise ValidationError({"folders": _("Name at least one folder to watch (for example INBOX).")})
    mailbox.failures, mailbox.last_error, mailbox.next_poll_at = 0, "", None
    mailbox.full_clean(exclude=["password_encrypted"])
    mailbox.save()
    return mailbox


def _settings_of(mailbox: Mailbox, password: str) -> imap.ConnectionSettings:
    return imap.ConnectionSettings(
        host=mailbox.host, port=mailbox.port, tls_mode=mailbox.tls_mode, username=mailbox.username, password=password
    )


def mailbox_connection_test(*, mailbox: Mailbox) -> tuple[bool, str, str]:
    """``(ok, step, message)``: which step failed (dns, connect, tls, login, folder) and why."""
    password = secret_decrypt(mailbox.password_encrypted)
    if password is None:
        return False, "password", _("The stored password cannot be read (the key changed): enter it again.")
    try:
        imap.connection_test(_settings_of(mailbox, password), mailbox.folder_names)
    except imap.MailboxConnectError as exc:
        return False, exc.step, exc.message
    except (OSError, ImapToolsError) as exc:
        return False, "connect", str(exc)
    return True, "ok", _("Connected: login and every folder work.")


# --- polling -------------------------------------------------------------------------------------


@dataclass
class PollResult:
    imported: int = 0
    skipped: int = 0
    rejected: int = 0
    error: str = ""


def _mailbox_failed(mailbox: Mailbox, message: str) -> None:
    failures = mailbox.failures + 1
    delay = timedelta(seconds=min(60 * 2**failures, 6 * 3600))
    Mailbox.objects.filter(pk=mailbox.pk).update(
        failures=failures, last_error=message[:2000], next_poll_at=timezone.now() + delay, last_polled_at=timezone.now()
    )
    logger.warning("Mailbox %s failed (%s attempts): %s", mailbox.pk, failures, message)


def mailboxes_due():
    now = timezone.now()
    from django.db.models import Q

    return Mailbox.objects.filter(active=True).filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))


def mailbox_poll(*, mailbox: Mailbox) -> PollResult:
    """Import what arrived since the last poll in every watched folder. Safe to run twice: UIDs
    already imported are not fetched again, and a message already stored is skipped by Message-ID.
    Counted in /metrics: polls by outcome, and the messages they fetched (core/metrics.py)."""
    result = _mailbox_poll(mailbox)
    EMAIL_POLLS.labels(outcome="error" if result.error else "ok").inc()
    EMAIL_POLLED_MESSAGES.inc(result.imported + result.skipped + result.rejected)
    return result


def _mailbox_poll(mailbox: Mailbox) -> PollResult:
    result = PollResult()
    password = secret_decrypt(mailbox.password_encrypted)
    if password is None:
        result.error = _("The stored password cannot be read (the key changed): enter it again.")
        _mailbox_failed(mailbox, result.error)
        return result
    try:
        box = imap.connect(_settings_of(mailbox, password))
    except imap.MailboxConnectError as exc:
        result.error = exc.message
        _mailbox_failed(mailbox, exc.message)
        return result
    memo: dict = {}  # email_match's answers for this poll
    try:
        for folder in mailbox.folder_names:
            _folder_poll(box, mailbox, folder, result, memo)
    except (OSError, ImapToolsError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        imap.disconnect(box)
    if result.error:
        _mailbox_failed(mailbox, result.error)
    else:
        interval = timedelta(seconds=60)
        Mailbox.objects.filter(pk=mailbox.pk).update(
            failures=0, last_error="", last_polled_at=timezone.now(), next_poll_at=timezone.now() + interval
        )
    return result


def _folder_poll(box, mailbox: Mailbox, folder: str, result: PollResult, memo: dict) -> None:
    state, _created = MailboxFolder.objects.get_or_create(mailbox=mailbox, name=folder)
    if not box.folder.exists(folder):
        raise ImapToolsError(_("The folder “%(folder)s” does not exist on the server.") % {"folder": folder})
    uidvalidity = imap.folder_open(box, folder)
    if state.uidvalidity != uidvalidity:  # the server renumbered the folder: start again (dedup by Message-ID)
        state.uidvalidity, state.last_uid = uidvalidity, 0
        state.save(update_fields=["uidvalidity", "last_uid"])
    uids = imap.new_uids(box, state.last_uid)
    for start in range(0, len(uids), FETCH_BATCH):
        chunk = uids[start : start + FETCH_BATCH]
        # One transaction per batch (one after-commit dispatch of its events), a savepoint per message
        # so that one bad message is set aside and the others are still imported.
        with transaction.atomic():
            for uid, raw in imap.messages_fetch(box, chunk):
                try:
                    with transaction.atomic():
                        stored = email_import(raw=raw, mailbox=mailbox, folder=folder, uid=uid, memo=memo)
                except Exception as exc:
                    reason = str(exc) if isinstance(exc, UnreadableMessage) else f"{type(exc).__name__}: {exc}"
                    logger.warning("Mailbox %s %s UID %s set aside: %s", mailbox.pk, folder, uid, reason)
                    RejectedMessage.objects.update_or_create(
                        mailbox=mailbox,
                        folder=folder,
                        uidvalidity=uidvalidity,
                        uid=uid,
                        defaults={"reason": reason[:2000]},
                    )
                    result.rejected += 1
                else:
                    if stored:
                        result.imported += 1
                    else:
                        result.skipped += 1
            MailboxFolder.objects.filter(pk=state.pk).update(last_uid=max(chunk))


# --- import and matching -------------------------------------------------------------------------


SUBJECT_REFERENCE = re.compile(r"\[D(\d+)\]", re.IGNORECASE)


def _referenced_deal(parsed: ParsedMessage):
    ids = addresses.ids_in(parsed.routing_addresses, settings.CRM_MAIL_DEAL_ADDRESS)
    ids += [int(m) for m in SUBJECT_REFERENCE.findall(parsed.subject)]
    for deal_id in ids:
        deal = Opportunity.objects.active().filter(pk=deal_id).first()
        if deal:
            return deal
    return None


def _addressed_user(parsed: ParsedMessage):
    """The active user whose own address (``CRM_MAIL_USER_ADDRESS``) the message went to, or None."""
    ids = addresses.ids_in(parsed.routing_addresses, settings.CRM_MAIL_USER_ADDRESS)
    return User.objects.filter(pk__in=ids, is_active=True).order_by("pk").first() if ids else None


@dataclass
class Match:
    opportunity: Opportunity | None
    contacts: list
    organizations: list


def _correspondents(addresses: set[str], user) -> tuple[list, list, Opportunity | None]:
    """The contacts with these addresses, their organizations (and organizations by their own
    e-mail), and the contacts' one open deal (``user``'s one among several) or None."""
    contacts = list(
        Contact.objects.active().annotate(email_lower=Lower("email")).filter(email_lower__in=addresses).order_by("pk")
    )
    org_ids = {c.organization_id for c in contacts if c.organization_id}
    org_ids |= set(
        Organization.objects.active()
        .annotate(email_lower=Lower("email"))
        .filter(email_lower__in=addresses)
        .values_list("pk", flat=True)
    )
    organizations = list(Organization.objects.filter(pk__in=org_ids).order_by("pk")) if org_ids else []
    deal = None
    if contacts:
        open_deals = Opportunity.objects.active().open().filter(contact__in=contacts)
        candidates = list(open_deals.values_list("pk", flat=True)[:2])
        if len(candidates) > 1 and user is not None:  # the user's own deal with them, when there is one
            candidates = list(open_deals.filter(owner=user).values_list("pk", flat=True)[:2])
        if len(candidates) == 1:
            deal = Opportunity.objects.get(pk=candidates[0])
    return contacts, organizations, deal


MATCH_MEMO_SIZE = 5000


def email_match(parsed: ParsedMessage, *, user=None, memo: dict | None = None) -> Match:
    """The deal, contacts and organizations a message belongs to (see the module's rules). ``user``:
    the user whose own address it went to; when the contacts have several open deals, theirs decides.
    ``memo``: one poll's answers by set of addresses, so a correspondent's hundredth message in a poll
    costs no lookup (a poll is minutes long: a contact or deal changed meanwhile counts from the next)."""
    key = (frozenset(parsed.addresses), getattr(user, "pk", None))
    found = memo.get(key) if memo is not None else None
    if found is None:
        found = _correspondents(parsed.addresses, user)
        if memo is not None:
            if len(memo) >= MATCH_MEMO_SIZE:
                memo.clear()
            memo[key] = found
    contacts, organizations, deal_of_contacts = found
    deal = _referenced_deal(parsed) or deal_of_contacts
    return Match(opportunity=deal, contacts=list(contacts), organizations=list(organizations))


def _thread_for(parsed_refs: list[str], subject: str, sent_at) -> tuple[EmailThread, EmailMessage | None]:
    parent = (
        EmailMessage.objects.filter(message_id__in=parsed_refs).order_by("sent_at", "pk").first()
        if parsed_refs
        else None
    )
    if parent:
        return parent.thread, parent
    return EmailThread.objects.create(subject=subject[:998], last_message_at=sent_at), None


def email_import(
    *, raw: bytes, mailbox: Mailbox | None = None, folder: str = "", uid: int | None = None, memo: dict | None = None
) -> EmailMessage | None:
    """Store one raw message when it concerns someone in the CRM. Returns the e-mail, or None when it
    was already stored or concerns nobody. Raises :class:`UnreadableMessage` for a message that
    cannot be read at all (the caller sets it aside). ``memo``: see :func:`email_match`."""
    parsed = message_parse(raw)
    if EmailMessage.objects.filter(message_id=parsed.message_id).exists():
        return None
    user = _addressed_user(parsed)
    match = email_match(parsed, user=user, memo=memo)
    refs = [*parsed.references, *([parsed.in_reply_to] if parsed.in_reply_to else [])]
    thread, parent = _thread_for(refs, parsed.subject, parsed.sent_at)
    opportunity = match.opportunity or (parent.opportunity if parent else None)
    if opportunity is None and not match.contacts and not match.organizations:
        return None  # from and to nobody in the CRM: not stored
    own = {mailbox.username.lower()} if mailbox else set()
    # Sent by the user to their own address (BCC): their outgoing mail, logged as theirs.
    sent_by = user if user is not None and user.email and parsed.from_address == user.email.lower() else None
    try:
        with transaction.atomic():
            email = EmailMessage.objects.create(
                message_id=parsed.message_id,
                thread=thread,
                mailbox=mailbox,
                folder=folder,
                uid=uid,
                outgoing=parsed.from_address in own or sent_by is not None,
                sent_by=sent_by,
                subject=parsed.subject,
                from_name=parsed.from_name,
                from_address=parsed.from_address,
                to=parsed.to,
                cc=parsed.cc,
                sent_at=parsed.sent_at,
                in_reply_to=parsed.in_reply_to,
                references=" ".join(parsed.references),
                text_body=parsed.text_body,
                html_body=parsed.html_body,
                opportunity=opportunity,
                link_status=LinkStatus.LINKED if opportunity else LinkStatus.UNLINKED,
            )
    except IntegrityError:  # another poller stored it a moment ago
        return None
    # A new e-mail has no links yet: one INSERT each, without the read that .set() makes first.
    EmailMessage.contacts.through.objects.bulk_create(
        EmailMessage.contacts.through(emailmessage=email, contact=c) for c in match.contacts
    )
    EmailMessage.organizations.through.objects.bulk_create(
        EmailMessage.organizations.through(emailmessage=email, organization=o) for o in match.organizations
    )
    if thread.last_message_at is None or parsed.sent_at > thread.last_message_at:
        EmailThread.objects.filter(pk=thread.pk).update(last_message_at=parsed.sent_at)
    _attachments_store(email, parsed, owner=mailbox.owner if mailbox else None, contacts=match.contacts)
    event_emit(
        "email.received",
        {
            "email": {"id": email.pk, "subject": email.subject, "from": email.from_address},
            "opportunity": {"id": opportunity.pk} if opportunity else None,
            "contact": {"id": match.contacts[0].pk} if match.contacts else None,
        },
    )
    return email


def _attachments_store(email: EmailMessage, parsed: ParsedMessage, *, owner, contacts) -> None:
    limit = settings.CRM_UPLOAD_MAX_BYTES
    parent = (
        {"opportunity": email.opportunity} if email.opportunity else ({"contact": contacts[0]} if contacts else None)
    )
    for attachment in parsed.attachments:
        row = EmailAttachment(
            message=email,
            filename=attachment.filename,
            content_type=attachment.content_type[:255],
            size=len(attachment.payload),
        )
        if len(attachment.payload) > limit:
            row.not_stored_reason = _("Larger than the upload limit (%(limit)s): not stored.") % {
                "limit": filesizeformat(limit)
            }
        elif parent is None:
            row.not_stored_reason = _("No deal or contact to file it under.")
        else:
            try:
                row.document = document_upload(
                    user=owner,
                    file=ContentFile(attachment.payload, name=attachment.filename),
                    description=_("Attachment of the e-mail “%(subject)s”") % {"subject": email.subject[:200]},
                    **parent,
                )
            except ValidationError as exc:
                row.not_stored_reason = "; ".join(str(m) for m in _messages(exc))[:300]
        row.save()


def _messages(exc) -> list[str]:
    detail = getattr(exc, "message_dict", None)
    if detail:
        return [m for messages in detail.values() for m in messages]
    return list(getattr(exc, "messages", [str(exc)]))


# --- the unlinked list ---------------------------------------------------------------------------


@transaction.atomic
def email_link(*, email: EmailMessage, opportunity: Opportunity, user) -> EmailMessage:
    """File an e-mail (and its thread's unlinked messages) under a deal the user may change."""
    if not Opportunity.objects.editable_by(user).filter(pk=opportunity.pk).exists():
        raise ChangeNotAllowed()
    if not EmailMessage.objects.visible_to(user).filter(pk=email.pk).exists():
        raise ChangeNotAllowed()
    EmailMessage.objects.filter(thread_id=email.thread_id, opportunity__isnull=True).update(
        opportunity=opportunity, link_status=LinkStatus.LINKED
    )
    email.refresh_from_db()
    return email


@transaction.atomic
def email_dismiss(*, email: EmailMessage, user) -> None:
    if not EmailMessage.objects.visible_to(user).filter(pk=email.pk).exists():
        raise ChangeNotAllowed()
    EmailMessage.objects.filter(pk=email.pk, link_status=LinkStatus.UNLINKED).update(link_status=LinkStatus.DISMISSED)


# --- sending -------------------------------------------------------------------------------------


@transaction.atomic
def email_compose(
    *,
    user,
    to: list[str],
    subject: str,
    body: str,
    cc: list[str] | None = None,
    opportunity: Opportunity | None = None,
    contact: Contact | None = None,
    reply_to: EmailMessage | None = None,
    documents=(),
    attachments: list[tuple[str, bytes, str]] = (),
) -> EmailMessage:
    """Queue an e-mail for the worker to send over SMTP; it is logged with its own Message-ID so
    replies thread onto it. ``attachments`` are extra files built on the spot (the quote PDF)."""
    if opportunity is not None and not Opportunity.objects.visible_to(user).filter(pk=opportunity.pk).exists():
        raise ChangeNotAllowed()
    if contact is not None and not Contact.objects.visible_to(user).filter(pk=contact.pk).exists():
        raise ChangeNotAllowed()
    if not to:
        raise ValidationError({"to": _("Enter at least one recipient.")})
    if not subject.strip():
        raise ValidationError({"subject": _("Enter a subject.")})
    now = timezone.now()
    references = []
    if reply_to is not None:
        references = [*reply_to.references.split(), reply_to.message_id]
        thread = reply_to.thread
        opportunity = opportunity or reply_to.opportunity
    else:
        thread = EmailThread.objects.create(subject=subject[:998], last_message_at=now)
    email = EmailMessage.objects.create(
        message_id=make_msgid(domain=settings.CRM_MAIL_MESSAGE_ID_DOMAIN),
        thread=thread,
        outgoing=True,
        subject=subject.strip()[:998],
        from_name=user.get_full_name(),
        from_address=user.email or settings.DEFAULT_FROM_EMAIL,
        to=[a.strip().lower() for a in to],
        cc=[a.strip().lower() for a in cc or []],
        sent_at=now,
        in_reply_to=reply_to.message_id if reply_to else "",
        references=" ".join(references),
        text_body=body,
        opportunity=opportunity,
        link_status=LinkStatus.LINKED if opportunity else LinkStatus.UNLINKED,
        send_status=SendStatus.PENDING,
        sent_by=user,
    )
    recipients = {a.lower() for a in [*email.to, *email.cc]}
    contacts = list(Contact.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=recipients))
    if contact is not None and contact not in contacts:
        contacts.append(contact)
    email.contacts.set(contacts)
    email.organizations.set({c.organization_id for c in contacts if c.organization_id})
    EmailThread.objects.filter(pk=thread.pk).update(last_message_at=now)
    for document in documents:
        EmailAttachment.objects.create(
            message=email,
            filename=document.original_name,
            content_type=document.content_type,
            size=document.size,
            document=document,
        )
    for name, content, content_type in attachments:
        parent = {"opportunity": opportunity} if opportunity else {"contact": contacts[0]} if contacts else None
        document = document_upload(user=user, file=ContentFile(content, name=name), **parent) if parent else None
        EmailAttachment.objects.create(
            message=email, filename=name, content_type=content_type, size=len(content), document=document
        )
    transaction.on_commit(
        lambda: task_request("mail.tasks.email_send", kwargs={"email_id": email.pk}, waiting="e-mails to send")
    )
    return email


def email_send(*, email_id: int) -> bool:
    """Send one pending e-mail over SMTP (``EMAIL_URL``). Safe to run twice: only a pending row is
    sent, under a row lock another worker skips."""
    from django.core.mail import EmailMultiAlternatives, get_connection

    with transaction.atomic():
        email = (
            EmailMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, send_status=SendStatus.PENDING)
            .first()
        )
        if email is None:
            return False
        headers = {"Message-ID": email.message_id}
        if email.in_reply_to:
            headers["In-Reply-To"] = email.in_reply_to
        if email.references:
            headers["References"] = email.references
        sender = f"{email.from_name} <{email.from_address}>" if email.from_name else email.from_address
        message = EmailMultiAlternatives(
            subject=email.subject, body=email.text_body, from_email=sender, to=email.to, cc=email.cc, headers=headers
        )
        for attachment in email.attachments.select_related("document"):
            if attachment.document is not None:
                with attachment.document.file.open("rb") as handle:
                    message.attach(attachment.filename, handle.read(), attachment.content_type or None)
        try:
            get_connection(fail_silently=False, timeout=settings.CRM_MAIL_TIMEOUT).send_messages([message])
        except Exception as exc:
            email.send_status, email.send_error = SendStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
            logger.warning("E-mail %s could not be sent: %s", email.pk, email.send_error)
        else:
            email.send_status, email.send_error = SendStatus.SENT, ""
        email.save(update_fields=["send_status", "send_error"])
        return email.send_status == SendStatus.SENT


@transaction.atomic
def email_retry(*, email: EmailMessage, user) -> None:
    """Send a failed e-mail again."""
    if email.sent_by_id != user.pk and not sees_everything(user):
        raise ChangeNotAllowed()
    updated = EmailMessage.objects.filter(pk=email.pk, send_status=SendStatus.FAILED).update(
        send_status=SendStatus.PENDING, send_error=""
    )
    if updated:
        transaction.on_commit(
            lambda: task_request("mail.tasks.email_send", kwargs={"email_id": email.pk}, waiting="e-mails to send")
        )


# --- templates -----------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def template_fill(text: str, *, opportunity=None, contact=None, user=None) -> str:
    """Replace ``{deal}``, ``{contact}``, ``{contact_first_name}``, ``{organization}``, ``{owner}``.
    Plain substitution (never ``str.format``, which would reach into attributes); unknown ones stay."""
    organization = (opportunity.organization if opportunity else None) or (contact.organization if contact else None)
    contact = contact or (opportunity.contact if opportunity else None)
    owner = opportunity.owner if opportunity else user
    values = {
        "deal": opportunity.name if opportunity else "",
        "contact": str(contact) if contact else "",
        "contact_first_name": contact.first_name if contact else "",
        "organization": organization.name if organization else "",
        "owner": (owner.get_full_name() or owner.get_username()) if owner else "",
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _check_template_manager(user) -> None:
    if not (sees_everything(user) or getattr(user, "is_manager", False)):
        raise ChangeNotAllowed(_("Only managers and administrators manage e-mail templates."))


@transaction.atomic
def email_template_save(*, user, template=None, **fields):
    from .models import EmailTemplate

    _check_template_manager(user)
    template = template or EmailTemplate()
    for name, value in fields.items():
        setattr(template, name, value)
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def email_template_delete(*, user, template) -> None:
    _check_template_manager(user)
    template.delete()
