import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity
from activities.tasks import activity_reminders_send
from activities.tests.factories import ActivityFactory
from core.outbox import outbox_deliver_pending
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def test_reminder_is_emailed_once_to_the_owner(rep, mailoutbox):
    now = timezone.now()
    opp = OpportunityFactory(owner=rep, name="Rinnovo & <ampliamento>")
    due_soon = ActivityFactory(
        owner=rep, subject="Chiamare Niccolò", due_at=now + datetime.timedelta(minutes=20), opportunity=opp
    )
    ActivityFactory(owner=rep, subject="Later", due_at=now + datetime.timedelta(hours=3))  # window not reached
    ActivityFactory(owner=rep, subject="No reminder", due_at=now + datetime.timedelta(minutes=5), reminder_minutes=None)
    ActivityFactory(
        owner=rep, subject="Done already", due_at=now + datetime.timedelta(minutes=5), done=True, done_at=now
    )
    ActivityFactory(owner=rep, subject="Long gone", due_at=now - datetime.timedelta(days=2))

    assert activity_reminders_send.apply().result == 1
    outbox_deliver_pending()  # what the worker does after commit
    assert activity_reminders_send.apply().result == 0  # a second run (or a concurrent one) sends nothing more
    outbox_deliver_pending()

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [rep.email]
    assert "Chiamare Niccolò" in mail.subject
    assert "Rinnovo & <ampliamento>" in mail.body
    assert f"/activities/{due_soon.pk}/edit/" in mail.body
    due_soon.refresh_from_db()
    assert due_soon.reminder_sent_at is not None


def test_moving_the_due_time_rearms_the_reminder(rep, mailoutbox):
    now = timezone.now()
    activity = ActivityFactory(owner=rep, due_at=now + datetime.timedelta(minutes=10))
    services.activity_reminders_send(now=now)
    outbox_deliver_pending()
    activity = services.activity_update(activity=activity, user=rep, data={"due_at": now + datetime.timedelta(days=1)})
    assert activity.reminder_sent_at is None
    services.activity_reminders_send(now=now + datetime.timedelta(hours=23, minutes=45))
    outbox_deliver_pending()
    assert len(mailoutbox) == 2


def test_my_open_and_overdue_page(client, rep, django_assert_num_queries):
    now = timezone.now()
    opp = OpportunityFactory(owner=rep)
    for n in range(3):
        ActivityFactory(owner=rep, subject=f"Late {n}", due_at=now - datetime.timedelta(days=n + 1), opportunity=opp)
        ActivityFactory(owner=rep, subject=f"Soon {n}", due_at=now + datetime.timedelta(days=n + 1))
    ActivityFactory(owner=rep, subject="Finished", due_at=now - datetime.timedelta(days=1), done=True, done_at=now)
    ActivityFactory(subject="Someone else's")
    client.force_login(rep)
    client.get(reverse("activities:mine"))
    with django_assert_num_queries(2):  # team (nav), activities (the session and the user are cached)
        response = client.get(reverse("activities:mine"))
    assert [a.subject for a in response.context["overdue"]] == ["Late 2", "Late 1", "Late 0"]
    assert [a.subject for a in response.context["upcoming"]] == ["Soon 0", "Soon 1", "Soon 2"]
    assert "Finished" not in response.content.decode()


def test_plan_an_activity_from_a_deal_and_mark_it_done(client, rep):
    opp = OpportunityFactory(owner=rep)
    client.force_login(rep)
    page = client.get(opp.get_absolute_url()).content.decode()
    assert f"/activities/new/?opportunity={opp.pk}" in page
    response = client.post(
        reverse("activities:create") + f"?opportunity={opp.pk}",
        {
            "kind": "meeting",
            "subject": "Demo <prodotto>",
            "due_at": "2026-12-01T10:30",
            "duration_minutes": "60",
            "reminder_minutes": "15",
            "opportunity": opp.pk,
            "notes": "",
        },
    )
    assert response.status_code == 302
    assert response.url == opp.get_absolute_url()
    activity = Activity.objects.get()
    assert (activity.opportunity, activity.owner, activity.reminder_minutes) == (opp, rep, 15)
    assert "Demo &lt;prodotto&gt;" in client.get(opp.get_absolute_url()).content.decode()
    assert "Mark as done" in client.get(reverse("activities:edit", args=[activity.pk])).content.decode()
    client.post(reverse("activities:done", args=[activity.pk]), {"done": "1"})
    activity.refresh_from_db()
    assert activity.done and activity.done_at


def test_cannot_link_or_touch_what_one_cannot_see(client, rep, other_rep):
    hidden_opp = OpportunityFactory(owner=other_rep)
    theirs = ActivityFactory(owner=other_rep)
    client.force_login(rep)
    response = client.post(
        reverse("activities:create"),
        {"kind": "call", "subject": "x", "opportunity": hidden_opp.pk, "reminder_minutes": ""},
    )
    assert response.status_code == 200
    assert "not visible" in response.content.decode()
    assert client.get(reverse("activities:edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("activities:done", args=[theirs.pk])).status_code == 404


def test_activity_list_budget_and_export(client, rep, django_assert_num_queries):
    opp = OpportunityFactory(owner=rep)
    for _ in range(5):
        ActivityFactory(owner=rep, opportunity=opp)
    client.force_login(rep)
    client.get(reverse("activities:list"))
    with django_assert_num_queries(4):  # teams, count, team (nav), rows (the session and the user are cached)
        response = client.get(reverse("activities:list") + "?state=open")
    assert len(response.context["objects"]) == 5
    export = client.get(reverse("activities:list") + "?export=csv")
    assert b"Chiamata" in b"".join(export.streaming_content)
