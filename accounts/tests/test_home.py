"""The start page: a rep's own work; a manager's team (issue 16)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.tests.factories import ActivityFactory
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def _kpi(html: str, name: str) -> str:
    return re.search(rf'data-kpi="{name}">([^<]*)<', html).group(1).strip()


def _deals(owner, n, **kwargs):
    for _ in range(n):
        OpportunityFactory(owner=owner, **kwargs)


def test_a_manager_sees_their_team_rep_by_rep(client, manager, rep, teammate, other_rep, django_assert_num_queries):
    today = timezone.localdate()
    _deals(rep, 12, expected_close_date=today)  # more than the ten a table shows
    _deals(teammate, 2, expected_close_date=today - datetime.timedelta(days=40))
    _deals(other_rep, 3, expected_close_date=today)  # another team: not counted
    ActivityFactory(owner=teammate, due_at=timezone.now() - datetime.timedelta(days=2))
    ActivityFactory(owner=rep, due_at=timezone.now() + datetime.timedelta(days=2))
    client.force_login(manager)
    client.get(reverse("home"))
    # (the user is cached since the first request) teams, my summary, closing, overdue, activities,
    # recent, nav team; the team's overdue activities, by rep, summary, closing this month; the
    # targets' attainment (analytics): my targets, my team's
    with django_assert_num_queries(13):
        html = client.get(reverse("home")).content.decode()
    assert 'data-testid="team-home"' in html
    assert _kpi(html, "team-open") == "14"
    assert _kpi(html, "team-closing") == "12"
    assert _kpi(html, "team-overdue-activities") == "1"
    table = re.search(r'data-testid="team-by-rep".*?</table>', html, re.S).group(0)
    assert rep.get_full_name() in table and teammate.get_full_name() in table
    assert other_rep.get_full_name() not in table
    assert table.index(rep.get_full_name()) < table.index(teammate.get_full_name())  # largest pipeline first

    # The page's query count does not grow with the team's deals.
    _deals(rep, 5, expected_close_date=today)
    _deals(teammate, 5)
    with django_assert_num_queries(13):
        client.get(reverse("home"))


def test_a_rep_sees_their_own_counts_over_every_deal(client, rep, teammate):
    today = timezone.localdate()
    _deals(rep, 12, expected_close_date=today)
    _deals(teammate, 2, expected_close_date=today)
    client.force_login(rep)
    html = client.get(reverse("home")).content.decode()
    assert 'data-testid="team-home"' not in html
    assert _kpi(html, "open") == "12"
    assert _kpi(html, "closing") == "12"  # the table shows ten, the count is every one
