"""Polling a real Dovecot: what arrives, what is matched, what is set aside, what is never doubled."""

import pytest

from contacts.tests.factories import ContactFactory
from documents.models import Document
from mail.crypto import secret_decrypt
from mail.models import EmailMessage, LinkStatus, Mailbox, RejectedMessage
from mail.services import email_dismiss, email_link, mailbox_connection_test, mailbox_poll, mailbox_save
from opportunities.tests.factories import OpportunityFactory

from .messages import PDF, latin1_message, no_message_id, raw_message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def deal(rep, pipeline):
    contact = ContactFactory(email="Mario@Example.com", owner=rep, organization__owner=rep)
    return OpportunityFactory(owner=rep, organization=contact.organization, contact=contact)


def test_password_is_stored_encrypted(mailbox, dovecot):
    row = Mailbox.objects.get(pk=mailbox.pk)
    assert dovecot.password not in row.password_encrypted
    assert secret_decrypt(row.password_encrypted) == dovecot.password


def test_connection_test_names_what_failed(mailbox, crm_admin):
    assert mailbox_connection_test(mailbox=mailbox)[:2] == (True, "ok")

    wrong = mailbox_save(user=crm_admin, mailbox=mailbox, password="sbagliata")
    assert mailbox_connection_test(mailbox=wrong)[:2] == (False, "login")

    mailbox_save(user=crm_admin, mailbox=mailbox, password="segreto-di-prova", folders="INBOX, Archivio")
    ok, step, message = mailbox_connection_test(mailbox=mailbox)
    assert (ok, step) == (False, "folder") and "Archivio" in message

    mailbox_save(user=crm_admin, mailbox=mailbox, host="no-such-host.invalid", folders="INBOX")
    assert mailbox_connection_test(mailbox=mailbox)[:2] == (False, "dns")


def test_message_from_a_contact_with_one_open_deal_lands_on_the_deal_once(mailbox, dovecot, deal):
    dovecot.append(raw_message(subject="Ordine confermato", attachments=[("ordine.pdf", PDF, "application", "pdf")]))
    dovecot.append(raw_message(sender="sconosciuto@altrove.it", subject="Spam"))

    from core.metrics import EMAIL_POLLED_MESSAGES, EMAIL_POLLS

    polls_ok, fetched = EMAIL_POLLS.labels(outcome="ok")._value.get(), EMAIL_POLLED_MESSAGES._value.get()
    result = mailbox_poll(mailbox=mailbox)
    assert (result.imported, result.rejected, result.error) == (1, 0, "")
    # What an operator reads on /metrics: one good poll; both messages fetched (one was not for the CRM).
    assert EMAIL_POLLS.labels(outcome="ok")._value.get() == polls_ok + 1
    assert EMAIL_POLLED_MESSAGES._value.get() == fetched + 2
    email = EmailMessage.objects.get()
    assert email.opportunity == deal and email.link_status == LinkStatus.LINKED
    assert list(email.contacts.all()) == [deal.contact]
    assert list(email.organizations.all()) == [deal.organization]
    document = Document.objects.get(opportunity=deal)
    assert document.original_name == "ordine.pdf" and document.file.read() == PDF

    again = mailbox_poll(mailbox=mailbox)
    assert again.imported == 0
    assert EmailMessage.objects.count() == 1 and Document.objects.count() == 1


def test_encodings_missing_message_id_and_bad_messages(mailbox, dovecot, deal):
    dovecot.append(latin1_message())
    dovecot.append(no_message_id())
    dovecot.append(b"\r\n\r\n")  # no headers at all: set aside, the others still imported

    result = mailbox_poll(mailbox=mailbox)
    assert (result.imported, result.rejected) == (2, 1)
    latin = EmailMessage.objects.get(message_id="<latin1-1@example.com>")
    assert latin.subject == "Perché il preventivo è cambiato?"
    assert latin.from_name == "Niccolò Bianchi"
    assert "Città: Forlì, prezzo 100 € “finale”." in latin.text_body
    missing = EmailMessage.objects.exclude(pk=latin.pk).get()
    assert missing.message_id.startswith("<missing-") and "corpo" in missing.text_body
    assert RejectedMessage.objects.get().reason

    assert mailbox_poll(mailbox=mailbox).imported == 0  # the computed Message-ID is stable


def test_oversized_attachment_is_recorded_not_stored(mailbox, dovecot, deal, settings):
    settings.CRM_UPLOAD_MAX_BYTES = 10
    dovecot.append(raw_message(attachments=[("grande.pdf", PDF, "application", "pdf")]))
    mailbox_poll(mailbox=mailbox)
    attachment = EmailMessage.objects.get().attachments.get()
    assert attachment.document is None and "limit" in attachment.not_stored_reason
    assert not Document.objects.exists()


def test_reply_threads_and_deal_reference_in_subject(mailbox, dovecot, deal, rep):
    second = OpportunityFactory(owner=rep, organization=deal.organization, contact=deal.contact)
    dovecot.append(raw_message(subject="Due trattative", message_id="<first@example.com>"))
    dovecot.append(raw_message(subject=f"Re: [D{second.pk}] Preventivo", message_id="<ref@example.com>"))
    mailbox_poll(mailbox=mailbox)
    unlinked = EmailMessage.objects.get(message_id="<first@example.com>")
    assert unlinked.link_status == LinkStatus.UNLINKED and unlinked.opportunity is None
    assert EmailMessage.objects.get(message_id="<ref@example.com>").opportunity == second

    dovecot.append(raw_message(subject="Re: Due trattative", in_reply_to="<first@example.com>", message_id="<r@x>"))
    mailbox_poll(mailbox=mailbox)
    reply = EmailMessage.objects.get(message_id="<r@x>")
    assert reply.thread_id == unlinked.thread_id

    email_link(email=unlinked, opportunity=deal, user=rep)
    assert set(EmailMessage.objects.filter(thread=unlinked.thread).values_list("opportunity", flat=True)) == {deal.pk}


def test_dismiss(mailbox, dovecot, deal, rep):
    OpportunityFactory(owner=rep, organization=deal.organization, contact=deal.contact)
    dovecot.append(raw_message())
    mailbox_poll(mailbox=mailbox)
    email = EmailMessage.objects.get()
    email_dismiss(email=email, user=rep)
    email.refresh_from_db()
    assert email.link_status == LinkStatus.DISMISSED


def test_failing_mailbox_is_marked_and_backs_off(mailbox, crm_admin):
    from core.metrics import EMAIL_POLLS

    mailbox_save(user=crm_admin, mailbox=mailbox, password="sbagliata")
    errors = EMAIL_POLLS.labels(outcome="error")._value.get()
    result = mailbox_poll(mailbox=mailbox)
    assert EMAIL_POLLS.labels(outcome="error")._value.get() == errors + 1
    mailbox.refresh_from_db()
    assert result.error and mailbox.failures == 1 and "password" in mailbox.last_error
    assert mailbox.next_poll_at is not None
    from mail.services import mailboxes_due

    assert not mailboxes_due().filter(pk=mailbox.pk).exists()
