"""The API face of e-mail, and the ``email.received`` webhook: both by the one visibility rule."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from contacts.tests.factories import ContactFactory
from core.outbox import outbox_deliver_pending
from integrations.models import WebhookDelivery
from integrations.services import webhook_create
from mail.models import EmailMessage, EmailThread
from mail.services import email_import
from opportunities.tests.factories import OpportunityFactory

from .messages import PDF, raw_message

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


@pytest.fixture
def deal(rep, pipeline):
    contact = ContactFactory(email="mario@example.com", owner=rep, organization__owner=rep)
    return OpportunityFactory(owner=rep, organization=contact.organization, contact=contact)


def test_emails_and_threads_of_a_deal(rep, other_rep, deal):
    first = email_import(raw=raw_message(subject="Uno", attachments=[("a.pdf", PDF, "application", "pdf")]))
    email_import(raw=raw_message(subject="Re: Uno", in_reply_to=first.message_id))
    body = api(rep).get(f"/api/v1/emails/?opportunity={deal.pk}").json()
    assert body["count"] == 2
    row = next(r for r in body["results"] if r["subject"] == "Uno")
    assert row["attachments"][0]["filename"] == "a.pdf" and row["attachments"][0]["document"]
    threads = api(rep).get(f"/api/v1/email-threads/?opportunity={deal.pk}").json()
    assert threads["count"] == 1 and threads["results"][0]["message_count"] == 2
    assert api(rep).get(f"/api/v1/emails/{first.pk}/").json()["thread"] == first.thread_id

    assert api(other_rep).get(f"/api/v1/emails/?opportunity={deal.pk}").json()["count"] == 0
    assert api(other_rep).get(f"/api/v1/emails/{first.pk}/").status_code == 404
    bad = api(rep).get("/api/v1/emails/?opportunity=abc")
    assert bad.status_code == 400 and "opportunity" in bad.content.decode()


@pytest.mark.parametrize("n", [2, 30])
def test_email_list_in_constant_queries(rep, deal, n, django_assert_num_queries):
    thread = EmailThread.objects.create(subject="x")
    EmailMessage.objects.bulk_create(
        EmailMessage(
            message_id=f"<{i}@x>",
            thread=thread,
            subject=f"m{i}",
            sent_at=timezone.now() - datetime.timedelta(minutes=i),
            opportunity=deal,
        )
        for i in range(n)
    )
    client = api(rep)
    with django_assert_num_queries(6):
        response = client.get(f"/api/v1/emails/?opportunity={deal.pk}")
    assert response.json()["count"] == n


def test_email_received_webhook_goes_only_to_who_may_see_it(rep, other_rep, deal, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    mine = webhook_create(user=rep, target_url="http://127.0.0.1:23098/hook", events=["email.received"])
    webhook_create(user=other_rep, target_url="http://127.0.0.1:23098/hook", events=["email.received"])
    email = email_import(raw=raw_message(subject="Avviso"))
    outbox_deliver_pending()  # what the worker does after commit
    delivery = WebhookDelivery.objects.get()
    assert delivery.subscription == mine
    assert delivery.payload["event"] == "email.received" and delivery.payload["data"]["email"]["id"] == email.pk
