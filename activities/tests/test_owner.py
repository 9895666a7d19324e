"""Who an activity may be given to (security review, finding 5), and that its services check the
caller."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.permissions import ChangeNotAllowed
from activities import services
from activities.models import Activity
from activities.tests.factories import ActivityFactory

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def _body(**extra):
    due = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    return {"kind": "call", "subject": "Richiamare", "due_at": due, **extra}


def test_the_api_refuses_an_activity_for_a_user_of_another_team(rep, other_rep):
    response = api(rep).post("/api/v1/activities/", _body(owner=other_rep.pk), format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == ["owner"]
    assert not Activity.objects.exists()


def test_the_api_refuses_handing_an_activity_to_another_team(rep, other_rep):
    activity = ActivityFactory(owner=rep)
    response = api(rep).patch(f"/api/v1/activities/{activity.pk}/", {"owner": other_rep.pk}, format="json")
    assert response.status_code == 400 and "owner" in response.json()["error"]["fields"]
    assert Activity.objects.get(pk=activity.pk).owner == rep


def test_a_manager_plans_activities_for_their_team(manager, rep):
    response = api(manager).post("/api/v1/activities/", _body(owner=rep.pk), format="json")
    assert response.status_code == 201 and Activity.objects.get().owner == rep


def test_the_form_offers_only_assignable_owners_and_refuses_another_on_the_field(client, rep, teammate):
    client.force_login(rep)
    url = reverse("activities:create")
    assert list(client.get(url).context["form"].fields["owner"].queryset) == [rep]
    due = (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        url, {"kind": "call", "subject": "x", "due_at": due, "duration_minutes": 30, "owner": teammate.pk}
    )
    assert response.status_code == 200 and "owner" in response.context["form"].errors
    assert not Activity.objects.exists()


def test_the_services_check_their_caller(rep, teammate):
    activity = ActivityFactory(owner=rep)
    for call in (
        lambda: services.activity_update(activity=activity, user=teammate, data={"subject": "x"}),
        lambda: services.activity_set_done(activity=activity, user=teammate),
        lambda: services.activity_delete(activity=activity, user=teammate),
    ):
        with pytest.raises(ChangeNotAllowed):
            call()
    fresh = Activity.objects.get(pk=activity.pk)
    assert not fresh.done and fresh.subject == activity.subject
