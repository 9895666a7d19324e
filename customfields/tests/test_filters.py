"""?cf_<key>=… filters on the API, the deal list and the board; the GIN index on PostgreSQL."""

from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory

from .factories import CustomFieldFactory, settore

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(rep, stages):
    settore()
    CustomFieldFactory(key="budget", type="money")
    CustomFieldFactory(key="firma", type="date")
    CustomFieldFactory(key="note_cliente", type="text")
    CustomFieldFactory(
        key="canali",
        type="multi_choice",
        choices=[
            {"key": "web", "label_it": "Web", "label_en": "Web"},
            {"key": "fiera", "label_it": "F", "label_en": "F"},
        ],
    )
    make = lambda name, **values: OpportunityFactory(  # noqa: E731
        owner=rep, name=name, stage=stages["New"], amount=Decimal("100.00"), custom_fields=values
    )
    return {
        "a": make(
            "Alfa", settore="pa", budget="5000", firma="2026-03-01", note_cliente="Cliente storico", canali=["web"]
        ),
        "b": make("Beta", settore="servizi", budget="20000", firma="2026-06-15", canali=["web", "fiera"]),
        "c": make("Gamma", settore="manifattura"),
    }


def names(api, **params):
    response = api.get("/api/v1/opportunities/", params)
    assert response.status_code == 200, response.json()
    return sorted(row["name"] for row in response.json()["results"])


def test_api_filters_every_operator(rep, deals):
    api = APIClient()
    api.force_authenticate(rep)
    assert names(api, cf_settore="pa") == ["Alfa"]
    assert names(api, cf_settore__in="pa,servizi") == ["Alfa", "Beta"]
    assert names(api, cf_budget__min="10000") == ["Beta"]
    assert names(api, cf_budget__max="10000") == ["Alfa"]
    assert names(api, cf_firma__min="2026-01-01", cf_firma__max="2026-03-31") == ["Alfa"]
    assert names(api, cf_note_cliente__contains="STORICO") == ["Alfa"]
    assert names(api, cf_firma__empty="true") == ["Gamma"]
    assert names(api, cf_firma__empty="false") == ["Alfa", "Beta"]
    assert names(api, cf_canali="fiera") == ["Beta"]
    assert names(api, cf_canali__in="web") == ["Alfa", "Beta"]


def test_a_bad_filter_is_a_400_naming_the_parameter(rep, deals):
    api = APIClient()
    api.force_authenticate(rep)
    for params in (
        {"cf_settore": "agricoltura"},
        {"cf_nessuno": "x"},
        {"cf_firma__min": "ieri"},
        {"cf_settore__min": "1"},
    ):
        response = api.get("/api/v1/opportunities/", params)
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == list(params)


def test_the_deal_list_and_the_board_filter_by_a_choice(client, rep, deals, stages):
    client.force_login(rep)
    response = client.get("/opportunities/", {"cf_settore": "servizi"})
    assert [d.name for d in response.context["objects"]] == ["Beta"]
    url = reverse("pipeline:board_pipeline", args=[stages["New"].pipeline.pk])
    html = client.get(url, {"cf_settore": "servizi"}).content.decode()
    assert "Beta" in html and "Alfa" not in html and "Gamma" not in html


@pytest.mark.postgres
def test_filtering_by_a_choice_uses_the_gin_index(rep, deals):
    from customfields.filters import custom_q
    from customfields.selectors import definition_get

    q = custom_q(definition_get("deal", "settore"), "", "pa")
    sql, params = Opportunity.objects.filter(q).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # three rows: make the planner show its index choice
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "opp_custom_fields_gin" in plan, plan
    assert [d.name for d in Opportunity.objects.filter(q)] == ["Alfa"]
