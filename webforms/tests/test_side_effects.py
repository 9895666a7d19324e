import pytest
from django.core import mail
from django.core.cache import caches
from django.test import override_settings

from core.cache import breakers_reset
from integrations.tests.test_webhooks import receiver as webhook_receiver  # noqa: F401  (a fixture)
from webforms import spam
from webforms.services import Visit, submission_receive

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_assigned_owner_gets_an_email(webform, rep):
    rep.email = "rep@example.com"
    rep.save()
    submission_receive(webform=webform, fields={"name": "Luca Verdi", "email": "luca@example.com"}, visit=Visit())
    sent = [m for m in mail.outbox if m.to == ["rep@example.com"]]
    assert len(sent) == 1 and "Luca Verdi" in sent[0].subject
    assert "/opportunities/" in sent[0].body


def test_the_assigned_owner_is_told_in_the_crm_once_and_by_email_once(webform, rep):
    """The bell lights for the new lead; a rep who chose e-mail for leads gets one e-mail, not two."""
    from notifications.models import Notification
    from notifications.services import notification_preferences_set

    rep.email, rep.language = "rep@example.com", "it"
    rep.save()
    notification_preferences_set(user=rep, channels={"web_lead": "both"}, digest_hour=None)
    submission = submission_receive(
        webform=webform, fields={"name": "Anna Neri", "email": "anna@example.com"}, visit=Visit()
    )
    (told,) = Notification.objects.filter(user=rep, kind="web_lead")
    assert told.read_at is None and "Anna Neri" in told.text and told.text.startswith("Nuovo contatto")
    assert told.url == submission.opportunity.get_absolute_url()
    assert len([m for m in mail.outbox if m.to == ["rep@example.com"]]) == 1


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "core.cache.FaultTolerantRedisCache",
            "LOCATION": "redis://127.0.0.1:24099/0",  # nothing listens here: Redis is down
            "OPTIONS": {"socket_connect_timeout": 0.1, "socket_timeout": 0.1},
        }
    }
)
def test_rate_limit_lets_people_through_when_the_cache_is_down():
    breakers_reset()
    assert type(caches["default"]).__name__ == "FaultTolerantRedisCache"
    try:
        assert not any(spam.over_rate_limit(form_id=1, ip="10.0.0.9") for _ in range(20))
    finally:
        breakers_reset()


def test_the_deal_created_webhook_names_the_form(webform, rep, request):
    """A subscriber to new deals learns which web form a lead came from (issue 20)."""
    import json

    from core.outbox import outbox_deliver_pending
    from integrations.models import WebhookDelivery
    from integrations.services import webhook_create
    from integrations.webhooks import webhook_deliveries_send_due

    hook = request.getfixturevalue("webhook_receiver")

    webhook_create(user=rep, target_url=hook.url, secret="s3cret-of-the-receiver", events=["opportunity.created"])
    submission = submission_receive(
        webform=webform,
        fields={"name": "Luca Verdi", "email": "luca@example.com"},
        visit=Visit(utm={"campaign": "spring"}),
    )
    outbox_deliver_pending()
    webhook_deliveries_send_due()  # whatever the commit did not send already
    assert WebhookDelivery.objects.get().status == "delivered"
    assert len(hook.received) == 1
    body = json.loads(hook.received[0]["body"])
    assert body["event"] == "opportunity.created"
    assert body["data"]["opportunity"]["id"] == submission.opportunity_id
    assert body["data"]["form"] == {"id": webform.pk, "name": "Contatti", "slug": "contatti"}
