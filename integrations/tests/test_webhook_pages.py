"""The webhooks page beside the API tokens: one's own webhooks only, a new secret shown once,
pause and resume, rotation, deletion, recent deliveries and redelivery."""

import pytest
from django.urls import reverse
from django.utils import timezone

from core.outbox import outbox_deliver_pending
from integrations.models import WebhookDelivery, WebhookSubscription
from integrations.services import webhook_create
from integrations.tests.test_webhooks import receiver  # noqa: F401 (the real HTTP receiver fixture)
from integrations.webhooks import webhook_deliveries_send_due
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def test_creating_a_webhook_shows_its_generated_secret_once(client, rep):
    client.force_login(rep)
    url = reverse("integrations:webhooks")
    answer = client.post(
        url, {"target_url": "https://hooks.example.com/in", "events": ["opportunity.won", "opportunity.lost"]}
    )
    assert answer.status_code == 302
    hook = WebhookSubscription.objects.get(owner=rep)
    assert hook.events == ["opportunity.lost", "opportunity.won"] and hook.active

    page = client.get(url).content.decode()
    assert hook.secret in page and 'data-testid="new-secret"' in page
    assert hook.secret not in client.get(url).content.decode()  # once
    assert hook.secret not in client.get(reverse("integrations:webhook_detail", args=[hook.pk])).content.decode()


def test_bad_input_names_the_field(client, rep):
    client.force_login(rep)
    answer = client.post(reverse("integrations:webhooks"), {"target_url": "http://10.0.0.1/x", "secret": "short"})
    assert answer.status_code == 200
    form = answer.context["form"]
    assert {"events"} <= set(form.errors)
    answer = client.post(
        reverse("integrations:webhooks"),
        {"target_url": "http://10.0.0.1/x", "events": ["opportunity.won"], "secret": "short"},
    )
    assert "secret" in answer.context["form"].errors
    answer = client.post(
        reverse("integrations:webhooks"), {"target_url": "http://10.0.0.1/x", "events": ["contact.created"]}
    )
    assert "public addresses" in answer.context["form"].errors["target_url"][0]
    assert not WebhookSubscription.objects.exists()


def test_nobody_sees_or_changes_another_users_webhook(client, rep, teammate, crm_admin):
    hook = webhook_create(user=rep, target_url="https://hooks.example.com/mine", events=["opportunity.won"])
    for user in (teammate, crm_admin):
        client.force_login(user)
        assert "hooks.example.com/mine" not in client.get(reverse("integrations:webhooks")).content.decode()
        assert client.get(reverse("integrations:webhook_detail", args=[hook.pk])).status_code == 404
        for name in ("webhook_toggle", "webhook_rotate", "webhook_delete"):
            assert client.post(reverse(f"integrations:{name}", args=[hook.pk])).status_code == 404
    after = WebhookSubscription.objects.get()
    assert after.active and after.secret == hook.secret


def test_pause_resume_rotate_and_delete(client, rep):
    hook = webhook_create(user=rep, target_url="https://hooks.example.com/in", events=["opportunity.won"])
    client.force_login(rep)
    detail = reverse("integrations:webhook_detail", args=[hook.pk])

    client.post(reverse("integrations:webhook_toggle", args=[hook.pk]))
    assert not WebhookSubscription.objects.get().active
    client.post(reverse("integrations:webhook_toggle", args=[hook.pk]))
    assert WebhookSubscription.objects.get().active

    assert client.post(reverse("integrations:webhook_rotate", args=[hook.pk]))["Location"] == detail
    rotated = WebhookSubscription.objects.get().secret
    assert rotated != hook.secret and rotated.startswith("whsec_")
    assert rotated in client.get(detail).content.decode()
    assert rotated not in client.get(detail).content.decode()

    client.post(reverse("integrations:webhook_delete", args=[hook.pk]))
    assert not WebhookSubscription.objects.exists()


def test_a_converted_secret_is_shown_in_its_whsec_form_until_rotated(client, rep):
    hook = webhook_create(user=rep, target_url="https://hooks.example.com/in", events=["opportunity.won"])
    WebhookSubscription.objects.filter(pk=hook.pk).update(secret_converted=True)
    client.force_login(rep)
    detail = reverse("integrations:webhook_detail", args=[hook.pk])
    assert hook.secret in client.get(detail).content.decode()
    client.post(reverse("integrations:webhook_rotate", args=[hook.pk]))
    client.get(detail)  # the page that shows the new one, once
    assert WebhookSubscription.objects.get().secret not in client.get(detail).content.decode()


def test_recent_deliveries_and_a_redelivery_from_the_page(
    client,
    rep,
    teammate,
    stages,
    receiver,  # noqa: F811
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    receiver.fail_next = 6
    hook = webhook_create(user=rep, target_url=receiver.url, events=["opportunity.created"])
    for _ in range(3):
        OpportunityFactory(owner=rep, stage=stages["New"])
    outbox_deliver_pending()
    webhook_deliveries_send_due()
    client.force_login(rep)
    detail = reverse("integrations:webhook_detail", args=[hook.pk])
    client.get(detail)  # the first request reads the user, then cached
    with django_assert_num_queries(4):  # session, webhook, deliveries (visibility in one query), messages
        page = client.get(detail).content.decode()
    assert page.count('data-testid="delivery"') == 3 and "500" in page
    for _ in range(5):  # two more, to see the count does not grow
        OpportunityFactory(owner=rep, stage=stages["New"])
    outbox_deliver_pending()
    with django_assert_num_queries(4):
        assert client.get(detail).content.decode().count('data-testid="delivery"') == 8

    delivery = WebhookDelivery.objects.filter(subscription=hook, status="pending").first()
    receiver.fail_next = 0
    redeliver = reverse("integrations:webhook_redeliver", args=[hook.pk, delivery.pk])
    client.force_login(teammate)
    assert client.post(redeliver).status_code == 404
    client.force_login(rep)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(redeliver)["Location"] == detail
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and len(receiver.received) == 1
    assert receiver.received[0]["headers"]["webhook-id"] == f"msg_{delivery.pk}"
    assert delivery.next_attempt_at is None and delivery.delivered_at <= timezone.now()


def test_the_list_costs_the_same_queries_whatever_its_length(client, rep, django_assert_num_queries):
    client.force_login(rep)
    url = reverse("integrations:webhooks")
    webhook_create(user=rep, target_url="https://hooks.example.com/1", events=["opportunity.won"])
    client.get(url)  # the first request reads the user, then cached
    with django_assert_num_queries(2):
        assert client.get(url).content.decode().count('data-testid="webhook"') == 1
    for n in range(2, 6):
        webhook_create(user=rep, target_url=f"https://hooks.example.com/{n}", events=["opportunity.won"])
    with django_assert_num_queries(2):
        assert client.get(url).content.decode().count('data-testid="webhook"') == 5
