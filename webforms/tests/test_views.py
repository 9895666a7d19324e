"""The manager's pages: list, build, publish, review."""

import pytest

from opportunities.models import Opportunity
from webforms.models import Submission, WebForm
from webforms.services import Visit, submission_receive
from webforms.tests.factories import WebFormFactory

pytestmark = pytest.mark.django_db


def test_manager_builds_a_form_with_its_fields(client, manager, rep, pipeline, stages):
    client.force_login(manager)
    data = {
        "name": "Richiesta preventivo",
        "slug": "preventivo",
        "active": "on",
        "language": "it",
        "pipeline": pipeline.pk,
        "stage": "",
        "deal_name_pattern": "{company} – {name}",
        "lead_source": "website",
        "allowed_origins": "https://www.example.com/\nhttp://localhost:24000",
        "consent_text": "Acconsento",
        "consent_version": "2026-01",
        "assignment": "fixed",
        "assignee": rep.pk,
        "min_fill_seconds": 3,
        "name_shown": "on",
        "name_required": "on",
        "phone_shown": "on",
        "vat_number_shown": "on",
    }
    response = client.post("/forms/new/", data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    webform = WebForm.objects.get()
    assert webform.owner == manager and webform.origins() == ["https://www.example.com", "http://localhost:24000"]
    assert webform.shown_fields() == ["name", "email", "phone", "vat_number"]
    assert webform.is_required("name") and not webform.is_required("phone")
    page = client.get(webform.get_absolute_url())
    assert page.status_code == 200
    assert b"/f/preventivo/" in page.content and b"&lt;iframe" in page.content and b"&lt;form method" in page.content
    edit = client.get(f"/forms/{webform.pk}/edit/")
    assert edit.status_code == 200


def test_bad_origin_is_a_form_error_naming_the_field(client, manager, rep, pipeline):
    client.force_login(manager)
    response = client.post(
        "/forms/new/",
        {
            "name": "X",
            "slug": "x",
            "pipeline": pipeline.pk,
            "deal_name_pattern": "{name}",
            "lead_source": "website",
            "allowed_origins": "www.example.com/path",
            "assignment": "fixed",
            "assignee": rep.pk,
            "min_fill_seconds": 3,
        },
        HTTP_ACCEPT_LANGUAGE="it",
    )
    assert response.status_code == 200 and "non è un&#x27;origine" in response.content.decode()
    assert not WebForm.objects.exists()


def test_reps_cannot_manage_forms(client, rep):
    client.force_login(rep)
    assert client.get("/forms/").status_code == 403
    assert client.get("/forms/review/").status_code == 403


def test_review_queue_accept_and_reject(client, manager, rep, pipeline):
    webform = WebFormFactory(owner=manager, assignee=rep)
    held = [
        submission_receive(
            webform=webform,
            fields={"name": f"Bot {i}", "email": f"b{i}@example.com"},
            visit=Visit(utm={"campaign": "spam"}),
            suspicions=["honeypot"],
        )
        for i in range(2)
    ]
    client.force_login(manager)
    page = client.get("/forms/review/")
    assert page.content.count(b'data-testid="held"') == 2 and b"honeypot" in page.content
    client.post(f"/forms/submissions/{held[0].pk}/accept/")
    client.post(f"/forms/submissions/{held[1].pk}/reject/", {"reason": "bot"})
    assert Opportunity.objects.get().owner == rep
    assert Submission.objects.get(pk=held[1].pk).reject_reason == "bot"
    assert client.get("/forms/review/").content.count(b'data-testid="held"') == 0


def test_pages_have_a_query_budget(client, manager, rep, pipeline, django_assert_max_num_queries):
    client.force_login(manager)
    webform = WebFormFactory(owner=manager, assignee=rep)
    for size in (1, 6):
        while Submission.objects.count() < size:
            n = Submission.objects.count()
            submission_receive(
                webform=webform, fields={"name": "A", "email": f"a{n}@example.com"}, visit=Visit(), suspicions=["x"]
            )
        with django_assert_max_num_queries(12):
            assert client.get("/forms/").status_code == 200
        with django_assert_max_num_queries(12):
            assert client.get(webform.get_absolute_url()).status_code == 200
        with django_assert_max_num_queries(12):
            assert client.get("/forms/review/").status_code == 200
