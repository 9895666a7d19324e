"""Every view that honours ``next`` stays on this site: an attacker's link or form cannot bounce a
signed-in user to another host after a POST (open redirect)."""

import pytest
from django.urls import reverse

from activities.tests.factories import ActivityFactory

pytestmark = pytest.mark.django_db

FOREIGN = [
    "//evil.example/phish",
    "https://evil.example/phish",
    "/\\evil.example/phish",
    "\\\\evil.example/phish",
    "http:evil.example",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("target", FOREIGN)
def test_calendar_feed_regenerate_refuses_a_foreign_next(client, rep, target):
    client.force_login(rep)

    response = client.post(reverse("calendar:feed_regenerate"), {"next": target})

    assert response.status_code == 302
    assert response["Location"] == reverse("calendar:month")


def test_calendar_feed_regenerate_follows_a_local_next(client, rep):
    client.force_login(rep)

    response = client.post(reverse("calendar:feed_regenerate"), {"next": "/calendar/week/?date=2026-03-02"})

    assert response["Location"] == "/calendar/week/?date=2026-03-02"


@pytest.mark.parametrize("target", FOREIGN)
def test_activity_done_refuses_a_foreign_next(client, rep, target):
    activity = ActivityFactory(owner=rep)
    client.force_login(rep)

    response = client.post(reverse("activities:done", args=[activity.pk]), {"next": target})

    assert response.status_code == 302
    assert response["Location"] == reverse("activities:mine")


@pytest.mark.parametrize("target", FOREIGN)
def test_login_and_language_switch_refuse_a_foreign_next(client, rep, target):
    response = client.post(
        reverse("login"), {"username": rep.username, "password": "test-password-123", "next": target}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"] and not response["Location"].startswith("javascript")

    response = client.post(reverse("set_language"), {"language": "it", "next": target})
    assert "evil.example" not in response.get("Location", "")
