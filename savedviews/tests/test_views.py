"""Saved views: saved under a name with the list's filters, private or shared (managers and admins
only), one's default, each with its own URL, and never more than the reader may see."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.exceptions import ValidationError
from opportunities.tests.factories import OpportunityFactory
from savedviews.models import SavedView
from savedviews.selectors import saved_view_list
from savedviews.services import saved_view_create, saved_view_default_set

pytestmark = pytest.mark.django_db


def test_a_rep_keeps_views_private(rep):
    with pytest.raises(ValidationError) as exc:
        saved_view_create(user=rep, name="Mine", path="/opportunities/", query="scope=mine", visibility="team")
    assert "visibility" in exc.value.error_dict
    view = saved_view_create(user=rep, name="Mine", path="/opportunities/", query="scope=mine&page=3")
    assert (view.list_key, view.query, view.visibility) == ("deals", "scope=mine", "private")


def test_only_lists_and_the_board(rep):
    with pytest.raises(ValidationError) as exc:
        saved_view_create(user=rep, name="X", path="/admin/")
    assert "path" in exc.value.error_dict
    assert saved_view_create(user=rep, name="Board", path="/pipeline/").list_key == "board"


def test_shared_with_the_team_is_seen_by_the_team_only(manager, rep, other_rep):
    team_view = saved_view_create(user=manager, name="Team", path="/pipeline/", query="owner=1", visibility="team")
    everyone = saved_view_create(user=manager, name="All", path="/opportunities/", visibility="everyone")
    private = saved_view_create(user=manager, name="Private", path="/opportunities/")
    assert set(saved_view_list(user=rep)) == {team_view, everyone}
    assert set(saved_view_list(user=other_rep)) == {everyone}
    assert private in saved_view_list(user=manager)


def test_a_shared_view_shows_the_teammate_only_what_they_may_see(client, crm_admin, rep, other_rep):
    OpportunityFactory(owner=rep, name="Visible Alpha")
    OpportunityFactory(owner=other_rep, name="Hidden Alpha")
    view = saved_view_create(
        user=crm_admin, name="Alphas", path="/opportunities/", query="q=Alpha", visibility="everyone"
    )
    client.force_login(rep)
    response = client.get(view.get_absolute_url(), follow=True)
    assert response.status_code == 200
    assert b"Visible Alpha" in response.content and b"Hidden Alpha" not in response.content
    assert response.redirect_chain[0][0].startswith("/opportunities/?q=Alpha")


def test_someone_elses_private_view_is_a_404(client, manager, rep):
    view = saved_view_create(user=manager, name="Private", path="/opportunities/")
    client.force_login(rep)
    assert client.get(view.get_absolute_url()).status_code == 404


def test_sort_and_page_size_travel_with_the_view(client, rep):
    for i in range(4):
        OpportunityFactory(owner=rep, name=f"Deal {i}")
    view = saved_view_create(user=rep, name="Two", path="/opportunities/", query="ordering=-amount&per_page=2")
    assert (view.sort, view.page_size) == ("-amount", 2)
    client.force_login(rep)
    response = client.get(view.get_absolute_url(), follow=True)
    assert len(response.context["objects"]) == 2


def test_the_default_view_opens_the_list_without_filters(client, rep):
    OpportunityFactory(owner=rep, name="Kept")
    view = saved_view_create(user=rep, name="Default", path="/opportunities/", query="q=Kept")
    saved_view_default_set(user=rep, view=view)
    client.force_login(rep)  # the defaults are read at login
    response = client.get("/opportunities/")
    assert response.status_code == 302 and response["Location"] == view.get_absolute_url()
    assert client.get("/opportunities/?view=0").status_code == 200


def test_save_from_the_menu(client, manager):
    client.force_login(manager)
    menu = client.get(reverse("savedviews:menu"), {"path": "/pipeline/", "query": "owner=3"})
    assert menu.status_code == 200 and b"saved-view-form" in menu.content
    response = client.post(
        reverse("savedviews:save"),
        {
            "name": "Rotten deals of my team",
            "path": "/pipeline/",
            "query": "scope=team",
            "visibility": "team",
            "default": "1",
        },
    )
    view = SavedView.objects.get()
    assert response.status_code == 302 and response["Location"] == view.get_absolute_url()
    assert (view.visibility, view.team_id, view.list_key) == ("team", manager.team_id, "board")
    assert client.get("/pipeline/")["Location"] == view.get_absolute_url()


def test_no_menu_on_pages_without_views(client, rep):
    client.force_login(rep)
    assert client.get(reverse("savedviews:menu"), {"path": "/reports/"}).status_code == 204


def test_bad_input_is_a_message(client, rep):
    client.force_login(rep)
    response = client.post(reverse("savedviews:save"), {"name": "", "path": "/opportunities/"}, follow=True)
    assert response.status_code == 200
    assert b"Give the view a name." in response.content


def test_api_lists_the_views_one_may_open(manager, rep, other_rep):
    shared = saved_view_create(user=manager, name="Team", path="/opportunities/", query="scope=team", visibility="team")
    saved_view_create(user=manager, name="Private", path="/opportunities/")
    saved_view_default_set(user=rep, view=shared)
    api = APIClient()
    api.force_authenticate(rep)
    body = api.get("/api/v1/saved-views/", {"list": "deals"}).json()
    assert [(v["name"], v["query"], v["is_default"]) for v in body["results"]] == [("Team", "scope=team", True)]
    assert api.get(f"/api/v1/saved-views/{shared.pk}/").status_code == 200
    api.force_authenticate(other_rep)
    assert api.get(f"/api/v1/saved-views/{shared.pk}/").status_code == 404
