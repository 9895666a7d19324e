"""The issue's "done when": a message delivered to Dovecot appears on the deal after one poll with its
attachment as a document; a reply sent from the CRM reaches the SMTP server threaded."""

from email import message_from_bytes, policy

import pytest
from django.urls import reverse

from contacts.tests.factories import ContactFactory
from documents.models import Document
from mail.models import EmailMessage, Mailbox, SendStatus
from mail.tasks import mailboxes_poll
from opportunities.tests.factories import OpportunityFactory

from .messages import PDF, raw_message

pytestmark = pytest.mark.django_db(transaction=True)


def test_received_on_the_deal_then_a_threaded_reply_goes_out(client, mailbox, dovecot, smtp, rep, pipeline):
    contact = ContactFactory(email="mario@example.com", owner=rep, organization__owner=rep)
    deal = OpportunityFactory(owner=rep, organization=contact.organization, contact=contact)
    dovecot.append(
        raw_message(
            subject="Richiesta d'offerta",
            message_id="<richiesta-1@example.com>",
            attachments=[("capitolato.pdf", PDF, "application", "pdf")],
        )
    )

    assert mailboxes_poll() == 1
    client.force_login(rep)
    page = client.get(deal.get_absolute_url()).content.decode()
    assert "Richiesta d&#x27;offerta" in page
    assert Document.objects.get(opportunity=deal).original_name == "capitolato.pdf"
    received = EmailMessage.objects.get()

    response = client.post(
        reverse("mail:compose", args=["opportunity", deal.pk]) + f"?reply={received.pk}",
        {
            "reply": received.pk,
            "to": "mario@example.com",
            "subject": "Re: Richiesta d'offerta",
            "body": "Ecco l'offerta.",
        },
    )
    assert response.status_code == 302
    sent = EmailMessage.objects.get(outgoing=True)
    assert sent.send_status == SendStatus.SENT and sent.thread_id == received.thread_id

    mail_from, recipients, raw = smtp.wait_for(1)[0]
    assert recipients == ["mario@example.com"]
    delivered = message_from_bytes(raw, policy=policy.default)
    assert delivered["In-Reply-To"] == "<richiesta-1@example.com>"
    assert delivered["Message-ID"] == sent.message_id
    assert "<richiesta-1@example.com>" in delivered["References"]

    # The customer answers the CRM's message: it threads onto it, and polling twice imports it once.
    dovecot.append(raw_message(subject="Re: Re: Richiesta", in_reply_to=sent.message_id, message_id="<r2@example.com>"))
    Mailbox.objects.update(next_poll_at=None)  # due again (a poll schedules the next one a minute later)
    assert mailboxes_poll() == 1
    Mailbox.objects.update(next_poll_at=None)
    assert mailboxes_poll() == 0
    assert EmailMessage.objects.get(message_id="<r2@example.com>").thread_id == received.thread_id


def test_a_failed_send_shows_and_retries(client, rep, pipeline, smtp, settings):
    contact = ContactFactory(email="mario@example.com", owner=rep, organization__owner=rep)
    deal = OpportunityFactory(owner=rep, organization=contact.organization, contact=contact)
    client.force_login(rep)
    good_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 1  # nothing listens there
    client.post(
        reverse("mail:compose", args=["opportunity", deal.pk]),
        {"to": "mario@example.com", "subject": "Prova", "body": "x"},
    )
    email = EmailMessage.objects.get()
    assert email.send_status == SendStatus.FAILED and email.send_error
    page = client.get(reverse("mail:detail", args=[email.pk])).content.decode()
    assert 'data-testid="send-error"' in page and "Retry" in page
    settings.EMAIL_PORT = good_port
    client.post(reverse("mail:retry", args=[email.pk]))
    email.refresh_from_db()
    assert email.send_status == SendStatus.SENT and len(smtp.wait_for(1)) == 1
