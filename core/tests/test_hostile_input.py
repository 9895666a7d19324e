"""Hostile input is a 400 (or a 404) that says what is wrong, never a 500: NUL characters anywhere
in the request, JSON nested too deeply to parse, and dates at the edges of the calendar in report
periods, list filters and the calendar pages."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from activities.services import calendar_feed_token_regenerate

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "The request contains a NUL character, which is not allowed."
NUL_URLS = [
    "/opportunities/",
    "/organizations/",
    "/contacts/",
    "/products/",
    "/quotes/",
    "/activities/",
    "/activities/mine/",
    "/pipeline/",
    "/reports/won-lost/",
    "/reports/funnel/",
    "/reports/forecast/",
    "/reports/lost-deals/",
    "/calendar/",
    "/api/v1/opportunities/",
    "/api/v1/organizations/",
    "/api/v1/contacts/",
    "/api/v1/activities/",
    "/api/v1/reports/won-lost/",
]


@pytest.fixture
def signed_in(client, rep, stages):
    client.force_login(rep)
    return client


@pytest.mark.parametrize("url", NUL_URLS)
def test_a_nul_character_in_the_query_string_is_a_400(signed_in, url):
    response = signed_in.get(url, {"q": "abc\x00def"})

    assert response.status_code == 400
    if url.startswith("/api/"):
        assert response.json()["error"]["fields"] == {
            "q": ["The request contains a NUL character, which is not allowed."]
        }
    else:
        assert "NUL character" in response.content.decode()


def test_a_nul_character_in_a_form_field_or_the_feed_address_is_a_400(signed_in, client, rep):
    assert signed_in.post("/organizations/new/", {"name": "Nul\x00 S.r.l."}).status_code == 400
    calendar_feed_token_regenerate(user=rep)
    assert client.get("/calendar/feed/%00.ics").status_code == 400
    assert client.get("/calendar/feed/abc%00def.ics").status_code == 400


def test_json_nested_too_deeply_is_a_400_in_the_api_error_shape(rep):
    api = APIClient()
    api.force_authenticate(rep)

    response = api.post("/api/v1/opportunities/", "[" * 100_000, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert "nested too deeply" in response.json()["error"]["message"]


@pytest.mark.parametrize("path", ["won-lost", "funnel", "forecast", "lost-deals"])
def test_a_report_period_from_year_1_to_9999_is_a_400_naming_the_dates(signed_in, rep, path):
    query = {"date_from": "0001-01-01", "date_to": "9999-12-31"}

    page = signed_in.get(f"/reports/{path}/", query)
    assert page.status_code == 400
    assert "Enter a date between the years 1900 and 2999." in page.content.decode()

    api = APIClient()
    api.force_authenticate(rep)
    response = api.get(f"/api/v1/reports/{path}/", query)
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields["date_from"] == fields["date_to"] == ["Enter a date between the years 1900 and 2999."]


@pytest.mark.parametrize(
    "url",
    [
        "/opportunities/?close_after=0001-01-01",
        "/opportunities/?closed_before=9999-12-31",
        "/activities/?due_after=0001-01-01&due_before=9999-12-31",
        "/api/v1/opportunities/?close_after=0001-01-01",
        "/api/v1/opportunities/?updated_since=0001-01-01",
        "/opportunities/?updated_since=0001-01-01",
        "/api/v1/activities/?due_before=9999-12-31",
    ],
)
def test_list_date_filters_refuse_implausible_years(signed_in, rep, url):
    if url.startswith("/api/"):
        api = APIClient()
        api.force_authenticate(rep)
        response = api.get(url)
        assert response.status_code == 400
        assert "Enter a date between the years 1900 and 2999." in str(response.json()["error"]["fields"])
    else:
        response = signed_in.get(url)
        assert response.status_code in (200, 400)
        assert "Enter a date between the years 1900 and 2999." in response.content.decode()


@pytest.mark.parametrize("view", ["month", "week", "agenda"])
@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-07", "9999-12-31", "9999-12-15", "1899-12-31", "3000-01-01"])
def test_calendar_pages_at_the_edges_of_the_calendar_are_a_400(signed_in, view, day):
    response = signed_in.get(reverse(f"calendar:{view}"), {"date": day})

    assert response.status_code == 400
    assert "Enter a date between the years 1900 and 2999." in response.content.decode()


@pytest.mark.parametrize("view", ["month", "week", "agenda"])
@pytest.mark.parametrize("day", ["1900-01-01", "2999-12-31", "2026-02-30", "garbage"])
def test_calendar_pages_at_the_plausible_edges_still_render(signed_in, view, day):
    assert signed_in.get(reverse(f"calendar:{view}"), {"date": day}).status_code == 200
