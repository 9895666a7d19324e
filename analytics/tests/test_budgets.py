"""Query budgets of every analytics report, on each of its faces: the page, its XLSX export, the API
and the subscribed e-mail, for a manager (his team only) and for an administrator. The number of
queries is measured once, the data grows (more deals, stage history, forecast snapshots, a new
owner), and the same number must answer again."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.models import ReportSubscription
from analytics.services import report_subscriptions_queue, subscription_create, target_set
from core.outbox import outbox_deliver_pending
from opportunities.tests.factories import OpportunityFactory
from pipeline.models import StageChange
from reports.models import ForecastSnapshot

pytestmark = pytest.mark.django_db

PARAMS = {
    "stages": {"group_by": "owner", "date_from": "2024-01-01", "date_to": "2024-12-31"},
    "velocity": {"group_by": "owner", "date_from": "2024-01-01", "date_to": "2024-06-30"},
    "cohorts": {"date_from": "2024-01-01", "date_to": "2024-12-31"},
    "accuracy": {"group_by": "owner", "date_from": "2024-01-01", "date_to": "2024-12-31"},
    "targets": {},
}


def at(day: datetime.date, hour=12):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


class Data:
    """Deals walked through the stages, closed ones and open ones, and the forecast snapshots."""

    def __init__(self, stages, pipeline, lost_reason):
        self.stages, self.pipeline, self.lost_reason, self.made = stages, pipeline, lost_reason, 0
        self.open = sorted((s for s in stages.values() if s.kind == "open"), key=lambda s: s.order)

    def grow(self, owners, n=3):
        won, lost = self.stages["Won"], self.stages["Lost"]
        today = timezone.localdate()
        for owner in owners:
            for i in range(n):
                self.made += 1
                created = datetime.date(2024, 1 + self.made % 6, 1 + self.made % 27)
                ending = [(won, 20), (lost, 30), (self.open[2], 9)][i % 3]
                closed = ending[0].kind != "open"
                deal = OpportunityFactory(
                    owner=owner,
                    stage=ending[0],
                    amount=Decimal(100 * self.made),
                    created_at=at(created),
                    closed_at=at(created + datetime.timedelta(days=ending[1])) if closed else None,
                    lost_reason=self.lost_reason if ending[0] == lost else None,
                )
                steps = [(self.open[0], 0), (self.open[1], 3 + i), ending]
                StageChange.objects.filter(opportunity=deal).delete()
                for stage, days in steps:
                    StageChange.objects.create(
                        opportunity=deal,
                        to_stage=stage,
                        changed_at=at(created + datetime.timedelta(days=days), hour=9 + i),
                        amount=deal.amount,
                        currency=deal.currency,
                        probability=stage.probability,
                    )
                ForecastSnapshot.objects.create(
                    week_start=datetime.date(2023, 12, 25) + datetime.timedelta(weeks=self.made),
                    pipeline=self.pipeline,
                    owner=owner,
                    month=created.replace(day=1),
                    count=1,
                    amount=deal.amount,
                    weighted=deal.amount / 2,
                )
            # Won this quarter: the targets' attainment.
            OpportunityFactory(owner=owner, stage=won, amount=Decimal("50"), closed_at=at(today, hour=1))


@pytest.fixture
def data(manager, crm_admin, rep, teammate, other_rep, stages, pipeline, lost_reason):
    today = timezone.localdate()
    targets = ((manager, rep, "won_amount"), (manager, teammate, "won_count"), (crm_admin, other_rep, "won_count"))
    for user, owner, metric in targets:
        target_set(user=user, owner=owner, period_kind="quarter", day=today, metric=metric, value=Decimal("10"))
    found = Data(stages, pipeline, lost_reason)
    found.grow([rep, other_rep])
    return found


def _constant(measure, grow, django_assert_num_queries):
    measure()  # warm the caches a first request fills (content types, translations)
    with CaptureQueriesContext(connection) as first:
        measure()
    grow()
    with django_assert_num_queries(len(first.captured_queries)):
        measure()


@pytest.mark.parametrize("reader", ["manager", "crm_admin"])
@pytest.mark.parametrize("face", ["page", "xlsx", "api"])
@pytest.mark.parametrize("name", list(PARAMS))
def test_every_face_of_every_report_has_a_constant_budget(
    request, client, data, rep, teammate, name, face, reader, django_assert_num_queries
):
    client.force_login(request.getfixturevalue(reader))
    params = dict(PARAMS[name])
    url = reverse(f"analytics-api:{name}") if face == "api" else reverse(f"analytics:{name}")
    if face == "xlsx":
        params["export"] = "xlsx"

    def measure():
        response = client.get(url, params)
        assert response.status_code == 200

    _constant(measure, lambda: data.grow([rep, teammate], n=6), django_assert_num_queries)


@pytest.mark.parametrize("name", list(PARAMS))
def test_the_subscribed_email_has_a_constant_budget(manager, data, rep, teammate, name, mailoutbox):
    manager.email = "manager@example.com"
    manager.save()
    subscription_create(user=manager, report=name, params=PARAMS[name], frequency="weekly")

    def deliver():
        outbox_deliver_pending()  # the deals' own events first
        ReportSubscription.objects.update(next_send_at=timezone.now() - datetime.timedelta(minutes=1))
        assert report_subscriptions_queue() == 1
        mailoutbox.clear()
        # Only the delivery is counted: the report computed as the manager sees it, rendered, sent.
        with CaptureQueriesContext(connection) as queries:
            assert outbox_deliver_pending() == 1
        assert len(mailoutbox) == 1
        return len(queries.captured_queries)

    deliver()  # warm the caches
    before = deliver()
    data.grow([rep, teammate], n=6)
    assert deliver() == before
