"""The bulk endpoint: owner, stage and field changes over many deals, each checked, idempotent,
errors in the API's one shape, and the job read back while the worker runs it."""

import pytest
from rest_framework.test import APIClient

from bulk.models import BulkJob
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from pipeline.models import StageChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_stage_change_counts_changed_and_refused(api, rep, teammate, stages):
    own = [OpportunityFactory(owner=rep) for _ in range(3)]
    theirs = OpportunityFactory(owner=teammate)
    api.force_authenticate(rep)
    before = StageChange.objects.count()
    response = api.post(
        "/api/v1/bulk-jobs/",
        {"action": "stage", "stage": stages["Demo scheduled"].pk, "ids": [d.pk for d in own] + [theirs.pk]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["total"], body["changed_count"], body["refused_count"]) == ("done", 4, 3, 1)
    assert list(body["refusals"].values()) == [1]
    assert StageChange.objects.count() == before + 3
    assert api.get(f"/api/v1/bulk-jobs/{body['id']}/").json()["changed_count"] == 3


def test_filter_reaches_every_matching_record_the_caller_sees(api, manager, rep, other_rep):
    for _ in range(3):
        OpportunityFactory(owner=rep, name="Zeta")
    OpportunityFactory(owner=other_rep, name="Zeta")  # another team: not seen, not counted
    api.force_authenticate(manager)
    response = api.post(
        "/api/v1/bulk-jobs/",
        {"action": "field", "field": "next_step", "value": "Call", "filter": "q=Zeta"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["total"] == 3
    assert Opportunity.objects.filter(next_step="Call").count() == 3


def test_big_jobs_are_queued_and_read_back(api, rep, settings, django_capture_on_commit_callbacks):
    settings.CRM_BULK_INLINE_LIMIT = 1
    deals = [OpportunityFactory(owner=rep) for _ in range(3)]
    api.force_authenticate(rep)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/bulk-jobs/",
            {"action": "field", "field": "probability", "value": 55, "ids": [d.pk for d in deals]},
            format="json",
        )
    assert response.status_code == 202, response.content
    job = api.get(f"/api/v1/bulk-jobs/{response.json()['id']}/").json()
    assert (job["status"], job["changed_count"]) == ("done", 3)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "stage", "stage": 999999, "ids": [1]}, "stage"),
        ({"action": "owner", "owner": 999999, "ids": [1]}, "owner"),
        ({"action": "field", "field": "probability", "value": "x", "ids": [1]}, "value"),
        ({"action": "field", "field": "name", "value": "x", "ids": [1]}, "field"),
        ({"action": "owner", "owner": 1}, "ids"),
        ({"action": "fly", "ids": [1]}, "action"),
        ({"action": "field", "field": "type", "value": "x", "filter": ""}, "value"),
        ({"action": "field", "field": "type", "value": "", "filter": "amount_min=abc"}, "query.amount_min"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, rep, body, field):
    OpportunityFactory(owner=rep)
    api.force_authenticate(rep)
    response = api.post("/api/v1/bulk-jobs/", body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert field in error["fields"], error
    assert BulkJob.objects.count() == 0


def test_an_owner_the_caller_may_not_assign_is_refused(api, rep, teammate):
    deal = OpportunityFactory(owner=rep)
    api.force_authenticate(rep)
    response = api.post(
        "/api/v1/bulk-jobs/", {"action": "owner", "owner": teammate.pk, "ids": [deal.pk]}, format="json"
    )
    assert response.status_code == 400
    assert "owner" in response.json()["error"]["fields"]


def test_idempotency_key_runs_once(api, rep):
    deals = [OpportunityFactory(owner=rep) for _ in range(2)]
    api.force_authenticate(rep)
    body = {"action": "field", "field": "probability", "value": 20, "ids": [d.pk for d in deals]}
    first = api.post("/api/v1/bulk-jobs/", body, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")
    again = api.post("/api/v1/bulk-jobs/", body, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert BulkJob.objects.count() == 1


def test_someone_elses_job_is_a_404(api, rep, teammate):
    deal = OpportunityFactory(owner=rep)
    api.force_authenticate(rep)
    job_id = api.post("/api/v1/bulk-jobs/", {"action": "archive", "ids": [deal.pk]}, format="json").json()["id"]
    api.force_authenticate(teammate)
    assert api.get(f"/api/v1/bulk-jobs/{job_id}/").status_code == 404
    assert api.get("/api/v1/bulk-jobs/").json()["count"] == 0
