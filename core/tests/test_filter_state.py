"""Filters and forms keep no state between requests: what one page does to a filter never shows
on another user's page (issue 16: the API docs left the board's *Type* filter saying "---------")."""

import re

import django_filters
import pytest
from django.urls import reverse

from core.filters import StyledFilterSet
from core.forms import DASHES

pytestmark = pytest.mark.django_db


def _all_filtersets():
    pending, found = [StyledFilterSet], []
    while pending:
        for sub in pending.pop().__subclasses__():
            found.append(sub)
            pending.append(sub)
    return found


def _type_select(html: str) -> str:
    return re.search(r'<select name="type".*?</select>', html, re.S).group(0)


def test_board_type_filter_survives_the_api_schema(client, rep, pipeline):
    client.force_login(rep)
    assert "Any type" in _type_select(client.get(reverse("pipeline:board")).content.decode())
    assert client.get(reverse("api:schema")).status_code == 200
    html = client.get(reverse("pipeline:board")).content.decode()
    assert "Any type" in _type_select(html)
    assert DASHES not in html


def test_class_filters_with_a_cached_field_do_not_leak_into_instances(rf, rep):
    """Whoever builds a class-level filter's field (drf-spectacular does), each FilterSet instance
    builds its own from its own copy: every filter set of the project, every filter."""
    for filterset_class in _all_filtersets():
        for filter_ in filterset_class.base_filters.values():
            filter_.field  # noqa: B018 - caches a field on the class-level filter, as the schema does
        request = rf.get("/")
        request.user = rep
        kwargs = {"request": request} if "request" in filterset_class.__init__.__code__.co_varnames else {}
        instance = filterset_class(None, queryset=filterset_class._meta.model.objects.none(), **kwargs)
        for name, filter_ in instance.filters.items():
            assert filter_.field is not filterset_class.base_filters.get(name, object()).field, (filterset_class, name)
            if isinstance(filter_, django_filters.ChoiceFilter | django_filters.ModelChoiceFilter):
                assert str(filter_.field.empty_label or "") != DASHES, (filterset_class, name)


@pytest.mark.parametrize("url", ["opportunities:list", "pipeline:board", "activities:list"])
def test_whose_offers_everyone_once(client, rep, pipeline, url):
    client.force_login(rep)
    html = client.get(reverse(url)).content.decode()
    scope = re.search(r'<select name="scope".*?</select>', html, re.S).group(0)
    assert scope.count("Everyone") == 1
    assert client.get(reverse(url), {"scope": "all"}).status_code == 200


def test_hidden_number_filters_stay_hidden(client, rep):
    """An id filter (a deal's quotes) is a hidden input, not a text box the user sees in the filter
    bar. (The deal list's organization and contact filters are autocomplete fields people use.)"""
    client.force_login(rep)
    for url, name in (("quotes:list", "opportunity"),):
        html = client.get(reverse(url), {name: "1"}).content.decode()
        assert re.search(rf'<input type="hidden" name="{name}" value="1"', html), url
        assert f'for="id_{name}"' not in html, url
