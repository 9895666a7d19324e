import pytest
from rest_framework.test import APIClient

from webforms.services import Visit, submission_receive
from webforms.tests.factories import WebFormFactory

pytestmark = pytest.mark.django_db


def test_forms_readable_and_submissions_listable_by_managers(manager, rep, pipeline, django_assert_max_num_queries):
    webform = WebFormFactory(owner=manager, assignee=rep, slug="api-form")
    api = APIClient()
    api.force_authenticate(manager)
    for size in (1, 5):
        while webform.submissions.count() < size:
            n = webform.submissions.count()
            submission_receive(
                webform=webform,
                fields={"name": "A B", "email": f"api{n}@example.com"},
                visit=Visit(utm={"campaign": "c1" if n % 2 else "c2"}),
            )
        with django_assert_max_num_queries(6):
            listed = api.get("/api/v1/web-form-submissions/")
        assert listed.status_code == 200 and listed.json()["count"] == size
    only = api.get("/api/v1/web-form-submissions/", {"utm_campaign": "c1", "form": webform.pk}).json()
    assert {row["utm_campaign"] for row in only["results"]} == {"c1"}
    form = api.get(f"/api/v1/web-forms/{webform.pk}/").json()
    assert form["slug"] == "api-form" and form["fields"]["email"]["required"] is True


def test_reps_see_no_forms_and_no_submissions(manager, rep, pipeline):
    webform = WebFormFactory(owner=manager, assignee=rep)
    submission_receive(webform=webform, fields={"name": "A", "email": "x@example.com"}, visit=Visit())
    api = APIClient()
    api.force_authenticate(rep)
    assert api.get("/api/v1/web-forms/").json()["count"] == 0
    assert api.get("/api/v1/web-form-submissions/").json()["count"] == 0
    assert api.get(f"/api/v1/web-forms/{webform.pk}/").status_code == 404


def test_writes_are_not_allowed(manager, pipeline, rep):
    api = APIClient()
    api.force_authenticate(manager)
    assert api.post("/api/v1/web-forms/", {"name": "x"}, format="json").status_code == 405
