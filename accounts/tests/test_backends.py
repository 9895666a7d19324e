"""The logged-in user is read from the cache, and a change to the user is seen on the next request."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_logged_in_request_reads_no_user_row_and_sees_a_deactivation_at_once(client, rep, django_assert_num_queries):
    client.force_login(rep)
    url = reverse("api:opportunity-list")
    assert client.get(url).status_code == 200
    with django_assert_num_queries(2) as captured:  # the count and the page (the session is cached too)
        assert client.get(url).status_code == 200
    assert not any('"accounts_user"."password"' in q["sql"] for q in captured.captured_queries)

    rep.is_active = False
    rep.save()
    assert client.get(url).status_code in (401, 403)


def test_a_new_role_takes_effect_on_the_next_request(client, rep, crm_admin):
    client.force_login(rep)
    assert client.get(reverse("api:opportunity-list")).status_code == 200
    rep.role = crm_admin.role
    rep.save()
    response = client.get(reverse("api:opportunity-list"))
    assert response.status_code == 200
    from django.contrib.auth import get_user

    request = response.wsgi_request
    assert get_user(request).role == crm_admin.role
