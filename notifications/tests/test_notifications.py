"""Notifications (issue 18): the notify() service, mentions and assignments through the outbox,
the bell's JSON, the page, mark read / all read; never about a record the user may not see."""

import pytest
from django.urls import reverse

from core.outbox import outbox_deliver_pending
from notes.services import note_create
from notifications.models import Notification
from notifications.services import notify
from opportunities.services import opportunity_update
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def test_notify_never_tells_a_user_about_a_record_they_may_not_see(rep, other_rep, stages):
    deal = OpportunityFactory(owner=rep)
    assert notify(other_rep, "rule", text="Secret", record=deal) is None
    told = notify(rep, "rule", text="Yours", record=deal, key="rule:1:deal")
    assert told.url == deal.get_absolute_url()
    assert notify(rep, "rule", text="Yours again", record=deal, key="rule:1:deal") is None  # once per key
    assert Notification.objects.count() == 1


def test_a_mention_lights_the_colleagues_bell_once(client, rep, teammate, stages):
    deal = OpportunityFactory(owner=rep)
    note_create(user=rep, body="@teammate guarda qui", record=deal)
    outbox_deliver_pending()
    client.force_login(teammate)
    data = client.get(reverse("notifications:unread")).json()
    assert data["unread"] == 1
    assert "mentioned you" in data["latest"][0]["text"] and data["latest"][0]["url"] == deal.get_absolute_url()

    # The same event delivered again (a retried worker) tells nobody twice.
    from core.models import OutboxEvent
    from notifications.handlers import notify_mentions

    notify_mentions(OutboxEvent.objects.get(topic="note.mentioned"))
    assert Notification.objects.filter(user=teammate).count() == 1


def test_a_deal_given_to_me_notifies_me_in_my_language(rep, teammate, manager, stages):
    teammate.language = "it"
    teammate.save()
    deal = OpportunityFactory(owner=rep, name="Fornitura")
    opportunity_update(opportunity=deal, user=manager, data={"owner": teammate}, expected_version=deal.version)
    outbox_deliver_pending()
    note = Notification.objects.get(user=teammate)
    assert note.kind == "assigned" and "Fornitura" in note.text
    assert not Notification.objects.filter(user=rep).exists()


def test_the_page_marks_one_or_all_read(client, rep, stages):
    deal = OpportunityFactory(owner=rep)
    first = notify(rep, "rule", text="Uno", record=deal, key="a")
    notify(rep, "rule", text="Due", record=deal, key="b")
    client.force_login(rep)
    html = client.get(reverse("notifications:list")).content.decode()
    assert "Uno" in html and "Due" in html
    response = client.post(reverse("notifications:read", args=[first.pk]), {"next": deal.get_absolute_url()})
    assert response["Location"] == deal.get_absolute_url()
    assert client.get(reverse("notifications:unread")).json()["unread"] == 1
    client.post(reverse("notifications:read_all"))
    assert client.get(reverse("notifications:unread")).json()["unread"] == 0


def test_nobody_marks_someone_elses_notifications(client, rep, teammate, stages):
    deal = OpportunityFactory(owner=rep)
    theirs = notify(rep, "rule", text="Uno", record=deal)
    client.force_login(teammate)
    client.post(reverse("notifications:read", args=[theirs.pk]))
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_bell_costs_no_query_on_pages_and_its_json_is_constant(client, rep, stages, django_assert_num_queries):
    deal = OpportunityFactory(owner=rep)
    for index in range(12):
        notify(rep, "rule", text=f"N{index}", record=deal)
    client.force_login(rep)
    client.get(reverse("notifications:unread"))
    with django_assert_num_queries(2):  # the five newest unread, the count
        client.get(reverse("notifications:unread"))
    assert "data-notification-bell" in client.get(reverse("home")).content.decode()


def test_the_sweep_tells_owners_of_rotten_deals_and_due_activities_once(rep, stages, django_assert_num_queries):
    import datetime

    from django.utils import timezone

    from activities.tests.factories import ActivityFactory
    from notifications.services import notifications_time_based
    from opportunities.models import Opportunity

    now = timezone.now()
    rotten = OpportunityFactory(owner=rep, name="Ferma")
    Opportunity.objects.filter(pk=rotten.pk).update(rots_at=now - datetime.timedelta(hours=2))
    long_rotten = OpportunityFactory(owner=rep, name="Ferma da un anno")
    Opportunity.objects.filter(pk=long_rotten.pk).update(rots_at=now - datetime.timedelta(days=300))
    OpportunityFactory(owner=rep, name="Fresca")
    ActivityFactory(owner=rep, subject="Richiamare", due_at=now - datetime.timedelta(minutes=5))
    ActivityFactory(owner=rep, subject="Domani", due_at=now + datetime.timedelta(days=1))

    assert notifications_time_based(now=now) == 2
    texts = sorted(Notification.objects.filter(user=rep).values_list("kind", "text"))
    assert texts == [
        ("activity_due", "Activity due: Richiamare"),
        ("rotten", "Your deal Ferma has been left alone too long"),
    ]
    assert notifications_time_based(now=now) == 0  # run twice: told once


def test_by_email_only_skips_the_bell_and_both_does_both(client, rep, teammate, stages, mailoutbox):
    from notifications.models import Notification as N
    from notifications.services import notification_preferences_set

    teammate.email = "teammate@example.com"
    teammate.language = "it"
    teammate.save()
    deal = OpportunityFactory(owner=rep)
    client.force_login(teammate)
    response = client.post(
        reverse("notifications:preferences"),
        {"kind_mention": "email", "kind_rule": "both", "digest_hour": "7"}
        | {f"kind_{k}": "app" for k in ("assigned", "activity_due", "rotten", "web_lead")},
    )
    assert response.status_code == 302
    note_create(user=rep, body="@teammate ciao", record=deal)
    outbox_deliver_pending()
    assert N.objects.get(user=teammate, kind="mention").read_at is not None  # not in the bell
    assert len(mailoutbox) == 1 and "ti ha menzionato" in mailoutbox[0].subject

    notify(teammate, "rule", text="Regola", record=deal)
    outbox_deliver_pending()
    assert client.get(reverse("notifications:unread")).json()["unread"] == 1
    assert len(mailoutbox) == 2

    # A bad hour is a form error naming the field, never a 500.
    response = client.post(reverse("notifications:preferences"), {"digest_hour": "99"})
    assert response.status_code == 200 and "digest_hour" in response.context["form"].errors
    notification_preferences_set(user=teammate, channels={}, digest_hour=7)


def test_the_daily_digest_goes_at_the_users_hour_once_a_day(rep, teammate, stages, mailoutbox):
    import datetime

    from django.utils import timezone

    from notifications.services import notification_preferences_set, notifications_digest_send

    teammate.email = "teammate@example.com"
    teammate.save()
    deal = OpportunityFactory(owner=rep)
    notify(teammate, "rule", text="Da leggere", record=deal)
    now = timezone.now()
    hour = timezone.localtime(now).hour
    notification_preferences_set(user=teammate, channels={}, digest_hour=(hour + 1) % 24)
    assert notifications_digest_send(now=now) == 0
    notification_preferences_set(user=teammate, channels={}, digest_hour=hour)
    assert notifications_digest_send(now=now) == 1
    assert "Da leggere" in mailoutbox[0].body
    assert notifications_digest_send(now=now + datetime.timedelta(minutes=10)) == 0  # once a day
