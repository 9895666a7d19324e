import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from activities import services
from activities.models import CalendarFeedToken
from activities.tests.factories import ActivityFactory
from opportunities.services import opportunity_update
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

TZ = timezone.get_default_timezone


def _at(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=TZ())


@pytest.fixture
def data(rep, other_rep):
    day = datetime.date(2026, 11, 18)  # a Wednesday
    opp = OpportunityFactory(owner=rep, name="Fornitura Caffè & <Co>", expected_close_date=datetime.date(2026, 11, 27))
    opp = opportunity_update(
        opportunity=opp, user=rep, data={"next_step": "Inviare offerta", "next_step_date": datetime.date(2026, 11, 20)}
    )
    call = ActivityFactory(
        owner=rep, subject="Chiamata Niccolò", due_at=_at(day, 9, 30), duration_minutes=45, opportunity=opp
    )
    OpportunityFactory(owner=rep, name="Already won", expected_close_date=day).__class__.objects.filter(
        name="Already won"
    ).update(status="won", closed_at=timezone.now())
    ActivityFactory(owner=other_rep, subject="Not mine", due_at=_at(day, 10))
    return {"day": day, "opp": opp, "call": call}


def test_month_week_and_agenda_show_activities_close_dates_and_next_steps(client, rep, data, django_assert_num_queries):
    client.force_login(rep)
    url = reverse("calendar:month") + "?date=2026-11-18"
    client.get(url)
    # teams, activities, close dates, next steps, feed, nav team (the session and the user are cached)
    with django_assert_num_queries(6):
        response = client.get(url)
    page = response.content.decode()
    assert "Chiamata Niccolò" in page
    assert "Expected close: Fornitura Caffè &amp; &lt;Co&gt;" in page
    assert "Next step: Inviare offerta" in page
    assert "Not mine" not in page and "Already won" not in page
    grid = response.context["grid"]
    assert grid[0][0][0].weekday() == 0  # Monday first
    assert f'href="/activities/{data["call"].pk}/edit/"' in page
    assert f'href="{data["opp"].get_absolute_url()}"' in page

    week = client.get(reverse("calendar:week") + "?date=2026-11-18").content.decode()
    assert "Chiamata Niccolò" in week and "Next step: Inviare offerta" in week
    assert "Expected close: " not in week  # the 27th is next week
    agenda = client.get(reverse("calendar:agenda") + "?date=2026-11-18").content.decode()
    assert agenda.index("Chiamata Niccolò") < agenda.index("Next step: ") < agenda.index("Expected close: ")


def test_bad_date_falls_back_to_today(client, rep):
    client.force_login(rep)
    assert client.get(reverse("calendar:month") + "?date=2026-13-45").status_code == 200


def test_team_scope_shows_teammates_but_never_other_teams(client, rep, teammate, other_rep, data):
    ActivityFactory(owner=teammate, subject="Teammate call", due_at=_at(data["day"], 11))
    client.force_login(rep)
    page = client.get(reverse("calendar:month") + "?date=2026-11-18&scope=team").content.decode()
    assert "Teammate call" in page and "Not mine" not in page


def test_ical_feed_parses_and_revoked_token_is_404(client, rep, data):
    client.force_login(rep)
    client.post(reverse("calendar:feed_regenerate"))
    token = CalendarFeedToken.objects.get(user=rep).token
    client.logout()
    with timezone.override(TZ()):
        response = client.get(reverse("calendar:feed", args=[token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert set(events) >= {
        "Chiamata Niccolò",
        "Expected close: Fornitura Caffè & <Co>",
        "Next step: Inviare offerta (Fornitura Caffè & <Co>)",
    }
    assert "Not mine" not in events
    call = events["Chiamata Niccolò"]
    assert call.decoded("dtstart") == _at(data["day"], 9, 30)
    assert call.decoded("dtend") - call.decoded("dtstart") == datetime.timedelta(minutes=45)
    assert str(call["uid"]) == f"activity-{data['call'].pk}@127.0.0.1"  # CRM_SITE_URL's host by default
    assert str(call["url"]) == f"http://testserver/activities/{data['call'].pk}/edit/"
    assert "dtstamp" in call
    close = events["Expected close: Fornitura Caffè & <Co>"]
    assert close.decoded("dtstart") == datetime.date(2026, 11, 27)  # all day
    assert close.decoded("dtend") == datetime.date(2026, 11, 28)
    # Same UIDs on the next fetch, so calendar apps update instead of duplicating.
    again = Calendar.from_ical(client.get(reverse("calendar:feed", args=[token])).content)
    assert {str(e["uid"]) for e in again.walk("VEVENT")} == {str(e["uid"]) for e in cal.walk("VEVENT")}

    services.calendar_feed_token_regenerate(user=rep)
    assert client.get(reverse("calendar:feed", args=[token])).status_code == 404
    new = CalendarFeedToken.objects.get(user=rep).token
    assert client.get(reverse("calendar:feed", args=[new])).status_code == 200
    services.calendar_feed_token_revoke(user=rep)
    assert client.get(reverse("calendar:feed", args=[new])).status_code == 404


def _feed(client, token, **headers) -> dict:
    response = client.get(reverse("calendar:feed", args=[token]), **headers)
    assert response.status_code == 200
    return {str(e["uid"]): e for e in Calendar.from_ical(response.content).walk("VEVENT")}


def test_feed_uids_do_not_depend_on_the_host_and_moved_events_get_a_higher_sequence(client, rep, data, settings):
    settings.ALLOWED_HOSTS = ["crm.example.it", "10.0.0.5"]
    settings.CRM_CALENDAR_UID_DOMAIN = "crm.esempio.it"
    token = services.calendar_feed_token_get_or_create(user=rep).token
    with timezone.override(TZ()):
        by_name = _feed(client, token, HTTP_HOST="crm.example.it")
        by_address = _feed(client, token, HTTP_HOST="10.0.0.5")
    call_uid = f"activity-{data['call'].pk}@crm.esempio.it"
    close_uid = f"deal-{data['opp'].pk}-close@crm.esempio.it"
    assert set(by_name) == set(by_address) >= {call_uid, close_uid}
    assert all(uid.endswith("@crm.esempio.it") for uid in by_name)
    before_call, before_close = by_name[call_uid], by_name[close_uid]
    assert before_call.decoded("last-modified") == data["call"].updated_at.replace(microsecond=0)

    services.activity_update(
        activity=data["call"], user=rep, data={"due_at": _at(data["day"] + datetime.timedelta(days=1), 11)}
    )
    opportunity_update(opportunity=data["opp"], user=rep, data={"expected_close_date": datetime.date(2026, 11, 30)})
    with timezone.override(TZ()):
        after = _feed(client, token, HTTP_HOST="10.0.0.5")
    call, close = after[call_uid], after[close_uid]
    assert call.decoded("dtstart") == _at(data["day"] + datetime.timedelta(days=1), 11)
    assert close.decoded("dtstart") == datetime.date(2026, 11, 30)
    assert int(call["sequence"]) > int(before_call["sequence"])
    assert int(close["sequence"]) > int(before_close["sequence"])
    assert call.decoded("last-modified") >= before_call.decoded("last-modified")
    assert close.decoded("last-modified") >= before_close.decoded("last-modified")


def test_feed_speaks_its_owners_language_whatever_the_calendar_app_asks(client, rep, data):
    rep.language = "it"
    rep.save()
    token = services.calendar_feed_token_get_or_create(user=rep).token
    with timezone.override(TZ()):
        events = _feed(client, token, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    summaries = {str(e["summary"]) for e in events.values()}
    assert "Chiusura prevista: Fornitura Caffè & <Co>" in summaries, summaries
    assert "Prossimo passo: Inviare offerta (Fornitura Caffè & <Co>)" in summaries, summaries
    call = events[next(uid for uid in events if uid.startswith(f"activity-{data['call'].pk}@"))]
    assert str(call["description"]).startswith("Chiamata\n") or str(call["description"]).startswith("Chiamata\n")
    assert "Aprilo nel CRM:" in str(call["description"])

    rep.language = "en"
    rep.save()
    with timezone.override(TZ()):
        events = _feed(client, token, HTTP_ACCEPT_LANGUAGE="it-IT,it;q=0.9")
    assert "Expected close: Fornitura Caffè & <Co>" in {str(e["summary"]) for e in events.values()}


def test_feed_of_a_deactivated_user_is_gone(client, rep):
    token = services.calendar_feed_token_get_or_create(user=rep).token
    rep.is_active = False
    rep.save()
    assert client.get(reverse("calendar:feed", args=[token])).status_code == 404


def test_switching_views_keeps_the_day(client, rep):
    client.force_login(rep)
    response = client.get(reverse("calendar:month") + "?date=2026-11-18")
    assert response.context["switch_date"] == datetime.date(2026, 11, 18)
    assert "/calendar/week/?date=2026-11-18" in response.content.decode()


def test_a_crowded_month_is_capped_and_says_so(client, rep, monkeypatch):
    from activities import calendar

    monkeypatch.setattr(calendar, "MAX_PER_SOURCE", 2)
    for hour in (9, 10, 11):
        ActivityFactory(owner=rep, subject=f"Call {hour}", due_at=_at(datetime.date(2026, 11, 18), hour))
    client.force_login(rep)
    response = client.get(reverse("calendar:month") + "?date=2026-11-18")
    assert len(response.context["entries"]) == 2
    assert "too many entries" in response.content.decode()
