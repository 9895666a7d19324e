"""The import API, step by step as an integrator drives it: upload, map, preview, run, result."""

from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from imports.models import ImportJob
from imports.services import import_run
from integrations.services import api_token_create
from opportunities.models import Opportunity
from pipeline.models import LostReason, Pipeline

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.django_db


def client_for(user, *, read_only=False):
    _token, raw = api_token_create(user=user, name="test", read_only=read_only)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def owners(db):
    return [
        UserFactory(username="mferri", first_name="Marco", last_name="Ferri"),
        UserFactory(username="gbianchi", first_name="Giulia", last_name="Bianchi"),
    ]


def upload(client, name="pipedrive_deals.csv", kind="opportunity"):
    with open(DATA / name, "rb") as handle:
        return client.post("/api/v1/imports/", {"kind": kind, "file": handle}, format="multipart")


def test_an_integrator_imports_a_pipedrive_export_step_by_step(crm_admin, owners, django_capture_on_commit_callbacks):
    api = client_for(crm_admin)
    response = upload(api)
    assert response.status_code == 201, response.json()
    job = response.json()
    assert job["status"] == "uploaded" and job["total_rows"] == 20
    assert job["columns"]["name"] == "Deal - Title" and job["columns"]["status"] == "Deal - Status"
    assert "Deal - Creator" in job["headers"]
    assert {"name": "name", "label": "name", "required": True} in job["fields"]
    url = f"/api/v1/imports/{job['id']}/"

    mapping = api.put(f"{url}mapping/", {"columns": job["columns"], "options": {"create": "both"}}, format="json")
    assert mapping.status_code == 200 and mapping.json()["options"] == {"create": "both"}

    preview = api.get(f"{url}preview/").json()
    assert preview["can_run"] is False and preview["probability_scale"] == "percent"
    assert preview["unknown"]["pipeline"] == ["Pipeline"]
    assert {v["value"]: v["target"] for v in preview["values"]["status"]} == {
        "won": "won",
        "lost": "lost",
        "open": "open",
    }
    first_lost = next(r for r in preview["rows"] if r["line"] == 3)
    # Every error of the row, each naming its column as the file calls it.
    assert first_lost["errors"] == [
        {"column": "Deal - Pipeline", "message": "There is no pipeline Pipeline."},
        {
            "column": "Deal - Stage",
            "message": "Proposal Made is not a stage of Sales pipeline "
            "(New, Qualifying, Demo scheduled, Pending commitment, In negotiation, Won, Lost).",
        },
        {"column": "Deal - Lost reason", "message": "There is no lost reason Too expensive."},
    ]

    refused = api.post(f"{url}run/", format="json")
    assert refused.status_code == 400
    assert set(refused.json()["error"]["fields"]) == {"pipeline", "stage", "lost_reason"}

    sales = Pipeline.objects.get(name="Sales pipeline")
    stage = {s.name: str(s.pk) for s in sales.stages.all()}
    reason = {r.name: str(r.pk) for r in LostReason.objects.all()}
    values = {
        "pipeline": {"Pipeline": str(sales.pk)},
        "stage": {
            "Qualified": stage["Qualifying"],
            "Contact Made": stage["New"],
            "Proposal Made": stage["Pending commitment"],
            "Negotiations Started": stage["In negotiation"],
        },
        "lost_reason": {
            "Too expensive": reason["Price"],
            "Went with competitor": reason["Chose a competitor"],
            "Not responsive": "__skip__",
        },
    }
    assert api.put(f"{url}values/", {"values": values, "save_as": "Pipedrive"}, format="json").status_code == 200
    preview = api.get(f"{url}preview/").json()
    assert preview["can_run"] is True and preview["unknown"] == {}
    assert preview["counts"] == {"created": 19, "rejected": 1}
    assert preview["statuses"] == {"open": 7, "won": 6, "lost": 6}

    with django_capture_on_commit_callbacks():
        started = api.post(f"{url}run/", format="json")
    assert started.status_code == 202 and started.json()["status"] == "queued"
    import_run(job_id=job["id"])  # the worker

    result = api.get(f"{url}result/").json()
    assert result["status"] == "done" and result["progress"] == 100
    assert result["counts"] == {"created": 19, "updated": 0, "unchanged": 0, "rejected": 1}
    assert result["statuses"] == {"open": 7, "won": 6, "lost": 6}
    (skipped,) = result["rejected"]
    assert skipped["errors"][0]["column"] == "Deal - Lost reason" and "skip" in skipped["errors"][0]["message"]
    assert Opportunity.objects.filter(status="lost").count() == 6

    # Once run, the steps that change it answer 409 in the API's error shape.
    again = api.put(f"{url}values/", {"values": values}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"

    saved = api.get("/api/v1/import-mappings/").json()["results"]
    assert [m["name"] for m in saved] == ["Pipedrive"]
    reused = upload(api).json()
    assert reused["value_mapping"]["lost_reason"]["Not responsive"] == "__skip__"


def test_bad_input_is_a_400_naming_the_field(crm_admin):
    api = client_for(crm_admin)
    assert upload(api, kind="spaceship").json()["error"]["fields"] == {"kind": ['"spaceship" is not a valid choice.']}
    job = upload(api).json()
    url = f"/api/v1/imports/{job['id']}/"
    response = api.put(f"{url}mapping/", {"columns": {"name": "No such column"}}, format="json")
    assert response.status_code == 400 and "name" in response.json()["error"]["fields"]
    response = api.put(f"{url}values/", {"values": {"stage": {"Qualified": "999999"}}}, format="json")
    assert response.status_code == 400 and "stage" in response.json()["error"]["fields"]
    response = api.put(f"{url}values/", {"values": {"colour": {"x": "y"}}}, format="json")
    assert response.status_code == 400 and "colour" in response.json()["error"]["fields"]
    response = api.put(f"{url}mapping/", {"columns": {}, "options": {"create": "maybe"}}, format="json")
    assert response.status_code == 400 and "options" in response.json()["error"]["fields"]
    # The steps speak JSON: a form body is refused as such, not half-read.
    response = api.put(f"{url}values/", {"values": "x"}, format="multipart")
    assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media_type"


def test_a_job_is_seen_and_run_only_by_its_author_and_admins(rep, other_rep, crm_admin):
    job = upload(client_for(rep)).json()
    url = f"/api/v1/imports/{job['id']}/"
    other = client_for(other_rep)
    assert other.get(url).status_code == 404
    assert other.get(f"{url}preview/").status_code == 404
    assert other.post(f"{url}run/", format="json").status_code == 404
    assert [j["id"] for j in other.get("/api/v1/imports/").json()["results"]] == []
    assert client_for(crm_admin).get(url).status_code == 200
    # A read-only token reads, and cannot upload or run.
    reader = client_for(rep, read_only=True)
    assert reader.get(f"{url}preview/").status_code == 200
    assert reader.post(f"{url}run/", format="json").status_code == 403
    assert ImportJob.objects.get().status == "uploaded"


def test_the_list_has_a_query_budget(rep, django_assert_num_queries):
    api = client_for(rep)
    upload(api)
    api.get("/api/v1/imports/")  # warm up the token's last-used stamp
    with django_assert_num_queries(3):
        assert len(api.get("/api/v1/imports/").json()["results"]) == 1
    for _n in range(3):
        upload(api)
    with django_assert_num_queries(3):
        assert len(api.get("/api/v1/imports/").json()["results"]) == 4


def test_the_schema_describes_the_import_steps():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    assert "multipart/form-data" in paths["/api/v1/imports/"]["post"]["requestBody"]["content"]
    assert list(paths["/api/v1/imports/{id}/values/"]["put"]["requestBody"]["content"]) == ["application/json"]
    assert "PreviewResponse" in str(paths["/api/v1/imports/{id}/preview/"]["get"]["responses"]["200"]) or (
        "Preview" in str(paths["/api/v1/imports/{id}/preview/"]["get"]["responses"]["200"])
    )
    assert "202" in paths["/api/v1/imports/{id}/run/"]["post"]["responses"]
