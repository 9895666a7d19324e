"""The API says exactly what it does: JSON bodies only, `null` where the schema says nullable, typed
and bounded filters, every error in the documented JSON shape and declared in the schema."""

from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator

from contacts.tests.factories import ContactFactory, OrganizationFactory
from integrations.tests.test_api import client_for
from opportunities.tests.factories import OpportunityFactory
from products.models import Product
from quotes.models import QuoteLine
from quotes.services import quote_create, quote_line_add, quote_send

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(rep):
    return client_for(rep)


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"]
    return body["error"]


# --- JSON only ---------------------------------------------------------------------------------


def test_a_write_in_another_media_type_is_a_415_in_the_documented_shape(api, rep):
    org = OrganizationFactory(owner=rep)
    form = api.post("/api/v1/opportunities/", {"name": "Form", "organization": org.pk}, format="multipart")
    assert _error(form, 415)["code"] == "unsupported_media_type"
    urlencoded = api.generic(
        "POST", "/api/v1/webhooks/", "target_url=x", content_type="application/x-www-form-urlencoded"
    )
    assert _error(urlencoded, 415)["code"] == "unsupported_media_type"


def test_the_schema_declares_json_bodies_only(schema):
    bodies = {
        (path, method): set(operation["requestBody"]["content"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    assert bodies
    uploads = {key for key, media in bodies.items() if media != {"application/json"}}
    # A file upload is the one body that cannot be JSON: a document, and an import's file.
    assert uploads == {("/api/v1/documents/", "post"), ("/api/v1/imports/", "post")}
    assert bodies[("/api/v1/documents/", "post")] == {"multipart/form-data"}


def test_nulls_are_accepted_where_the_schema_says_nullable(api, rep, stages):
    org = OrganizationFactory(owner=rep)
    contact = ContactFactory(owner=rep, organization=org)
    created = api.post(
        "/api/v1/opportunities/",
        {
            "name": "Rinnovo",
            "organization": org.pk,
            "contact": None,
            "expected_close_date": None,
            "probability": None,
            "stage": stages["Demo scheduled"].pk,
        },
    )
    assert created.status_code == 201, created.content
    deal = created.json()
    assert deal["contact"] is None and deal["contact_name"] is None and deal["expected_close_date"] is None
    assert deal["probability"] == stages["Demo scheduled"].probability and deal["probability_is_manual"] is False

    url = f"/api/v1/opportunities/{deal['id']}/"
    manual = api.patch(url, {"probability": 80, "contact": contact.pk, "expected_close_date": "2027-01-31"})
    assert manual.status_code == 200 and manual.json()["probability_is_manual"] is True
    reset = api.patch(url, {"probability": None, "contact": None, "expected_close_date": None})
    assert reset.status_code == 200, reset.content
    body = reset.json()
    assert body["probability"] == stages["Demo scheduled"].probability and body["probability_is_manual"] is False
    assert body["contact"] is None and body["contact_name"] is None and body["expected_close_date"] is None


def test_names_of_missing_relations_are_declared_nullable(schema):
    deal = schema["components"]["schemas"]["Opportunity"]["properties"]
    assert deal["organization_name"]["nullable"] is True and deal["contact_name"]["nullable"] is True
    assert deal["probability"]["nullable"] is True


def test_a_webhook_created_without_active_is_active(api):
    created = api.post(
        "/api/v1/webhooks/",
        {"target_url": "https://hooks.example.com/crm", "secret": "s" * 20, "events": ["opportunity.won"]},
    )
    assert created.status_code == 201, created.content
    assert created.json()["active"] is True
    paused = api.patch(f"/api/v1/webhooks/{created.json()['id']}/", {"events": ["opportunity.lost"]})
    assert paused.json()["active"] is True  # a partial update leaves it as it is


# --- Typed, bounded filters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/opportunities/?organization=1.5", "organization"),
        ("/api/v1/opportunities/?organization=1e19", "organization"),
        ("/api/v1/opportunities/?contact=1e30", "contact"),
        ("/api/v1/opportunities/?contact=99999999999999999999999", "contact"),
        ("/api/v1/opportunities/?organization=9223372036854775808", "organization"),
        ("/api/v1/opportunities/?organization=0", "organization"),
        ("/api/v1/contacts/?organization=1e19", "organization"),
        ("/api/v1/quotes/?opportunity=1e30", "opportunity"),
        ("/api/v1/opportunity-lines/?opportunity=99999999999999999999999", "opportunity"),
        ("/api/v1/opportunity-lines/?opportunity=abc", "opportunity"),
        ("/api/v1/quote-lines/?quote=1.5", "quote"),
        ("/api/v1/pipelines/{pipeline}/summary/?contact=1e30", "contact"),
        ("/api/v1/reports/won-lost/?owner=99999999999999999999999", "owner"),
    ],
)
def test_a_bad_or_huge_id_filter_is_a_400_naming_it(api, pipeline, url, parameter):
    error = _error(api.get(url.format(pipeline=pipeline.pk)), 400)
    assert list(error["fields"]) == [parameter]


def test_the_largest_id_is_a_valid_filter(api):
    response = api.get("/api/v1/opportunities/", {"organization": 2**63 - 1})
    assert response.status_code == 200 and response.json()["count"] == 0


def test_id_filters_are_typed_integer_with_bounds(schema):
    def parameter(path, name):
        return next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name)["schema"]

    for path, name in [
        ("/api/v1/opportunities/", "organization"),
        ("/api/v1/opportunities/", "contact"),
        ("/api/v1/contacts/", "organization"),
        ("/api/v1/quotes/", "opportunity"),
        ("/api/v1/opportunity-lines/", "opportunity"),
        ("/api/v1/quote-lines/", "quote"),
        ("/api/v1/reports/funnel/", "pipeline"),
    ]:
        assert parameter(path, name) == {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1}


# --- The schema describes every answer ----------------------------------------------------------


def test_every_operation_declares_the_documented_errors_and_headers(schema):
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            codes = {"400", "401", "403", "404", "405", "429", "500"}
            if "requestBody" in operation:
                codes.add("415")
            if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])):
                codes.add("422")
                success = responses.get("201") or responses["200"]
                assert "Idempotent-Replayed" in success["headers"], (method, path)
            for code in codes:
                assert responses[code]["content"]["application/json"]["schema"] == error, (method, path, code)
            assert "Retry-After" in responses["429"]["headers"]
    assert "ETag" in schema["paths"]["/api/v1/opportunities/{id}/"]["get"]["responses"]["200"]["headers"]
    assert "ETag" in schema["paths"]["/api/v1/opportunities/{id}/"]["patch"]["responses"]["200"]["headers"]


def test_reports_declare_parameters_and_typed_answers(schema):
    for path, extra in [
        ("/api/v1/reports/won-lost/", {"group_by"}),
        ("/api/v1/reports/funnel/", set()),
        ("/api/v1/reports/forecast/", set()),
        ("/api/v1/reports/lost-deals/", set()),
    ]:
        operation = schema["paths"][path]["get"]
        names = {p["name"] for p in operation["parameters"]}
        assert {"period", "date_from", "date_to", "pipeline", "owner", "team", "currency"} | extra <= names
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert "$ref" in answer, path  # a named, typed component, not a free-form object
    funnel_step = schema["components"]["schemas"]["FunnelStep"]["properties"]
    assert funnel_step["kind"] == {"$ref": "#/components/schemas/DealStateEnum"}
    summary = schema["paths"]["/api/v1/pipelines/{id}/summary/"]["get"]
    assert {"scope", "owner", "status", "q"} <= {p["name"] for p in summary["parameters"]}
    assert schema["components"]["schemas"]["StageTotals"]["properties"]["kind"] == {
        "$ref": "#/components/schemas/DealStateEnum"
    }


def test_report_answers_have_the_declared_keys(api, rep, stages, lost_reason, schema):
    OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("100.00"))
    components = schema["components"]["schemas"]
    for path, component in [
        ("won-lost", "WonLostReport"),
        ("funnel", "FunnelReport"),
        ("forecast", "ForecastReport"),
        ("lost-deals", "LostReport"),
    ]:
        response = api.get(f"/api/v1/reports/{path}/")
        assert response.status_code == 200
        assert set(response.json()) == set(components[component]["properties"]), path


def test_404_and_500_under_the_api_are_the_documented_json_error(api, client, settings):
    settings.DEBUG = False
    assert _error(api.get("/api/v1/nope/"), 404)["code"] == "not_found"
    assert _error(client.get("/api/v1/opportunities/1/nothing-here/"), 404)["code"] == "not_found"
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_an_unexpected_error_under_the_api_is_a_json_500(rf):
    from core.api.handlers import server_error

    api = server_error(rf.get("/api/v1/opportunities/"))
    assert api.status_code == 500 and api["Content-Type"] == "application/json"
    assert b'"code": "server_error"' in api.content
    page = server_error(rf.get("/opportunities/"))
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


def test_405_is_the_documented_json_error(api):
    assert _error(api.put("/api/v1/opportunity-lines/1/", {}), 405)["code"] == "method_not_allowed"


# --- Quote lines -------------------------------------------------------------------------------


@pytest.fixture
def draft(rep):
    return quote_create(user=rep, organization=OrganizationFactory(owner=rep), title="Offerta")


def test_quote_lines_are_added_changed_and_removed_through_the_api(api, draft):
    product = Product.objects.create(name="Licenza", unit_price=Decimal("250.00"), vat_rate=Decimal("10.00"))
    added = api.post("/api/v1/quote-lines/", {"quote": draft.pk, "product": product.pk, "quantity": "2"})
    assert added.status_code == 201, added.content
    line = added.json()
    assert line["quote"] == draft.pk and line["description"] == "Licenza"
    assert line["unit_price"] == "250.00" and line["vat_rate"] == "10.00" and line["net_total"] == "500.00"
    assert "ETag" in added

    changed = api.patch(f"/api/v1/quote-lines/{line['id']}/", {"discount_percent": "10", "quantity": "1"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["net_total"] == "225.00"
    quote = api.get(f"/api/v1/quotes/{draft.pk}/").json()
    assert [item["id"] for item in quote["lines"]] == [line["id"]]
    assert quote["totals"]["subtotal"] == "225.00"
    assert api.get("/api/v1/quote-lines/", {"quote": draft.pk}).json()["count"] == 1

    assert api.delete(f"/api/v1/quote-lines/{line['id']}/").status_code == 204
    assert not QuoteLine.objects.filter(quote=draft).exists()


def test_a_quote_line_needs_a_price_or_a_product(api, draft):
    error = _error(api.post("/api/v1/quote-lines/", {"quote": draft.pk, "description": "Consulenza"}), 400)
    assert list(error["fields"]) == ["unit_price"]


def test_a_sent_quotes_lines_are_frozen(api, rep, draft):
    line = quote_line_add(quote=draft, user=rep, description="Canone", unit_price=Decimal("100.00"))
    quote_send(quote=draft, user=rep)
    assert _error(api.patch(f"/api/v1/quote-lines/{line.pk}/", {"quantity": "3"}), 400)
    assert _error(api.delete(f"/api/v1/quote-lines/{line.pk}/"), 400)
    assert _error(api.post("/api/v1/quote-lines/", {"quote": draft.pk, "description": "x", "unit_price": "1"}), 400)


def test_quote_lines_follow_who_may_change_the_quote(rep, teammate, other_rep, draft):
    line = quote_line_add(quote=draft, user=rep, description="Canone", unit_price=Decimal("100.00"))
    teammate_api, stranger = client_for(teammate), client_for(other_rep)
    assert teammate_api.get(f"/api/v1/quote-lines/{line.pk}/").status_code == 200
    assert _error(teammate_api.patch(f"/api/v1/quote-lines/{line.pk}/", {"quantity": "3"}), 403)
    assert _error(teammate_api.delete(f"/api/v1/quote-lines/{line.pk}/"), 403)
    refused = teammate_api.post("/api/v1/quote-lines/", {"quote": draft.pk, "description": "x", "unit_price": "1"})
    assert _error(refused, 403)
    assert _error(stranger.get(f"/api/v1/quote-lines/{line.pk}/"), 404)
    assert stranger.get("/api/v1/quote-lines/").json()["count"] == 0
    hidden = stranger.post("/api/v1/quote-lines/", {"quote": draft.pk, "description": "x", "unit_price": "1"})
    assert list(_error(hidden, 400)["fields"]) == ["quote"]
    line.refresh_from_db()
    assert line.quantity == 1 and QuoteLine.objects.filter(quote=draft).count() == 1


def test_the_quote_line_body_is_used_by_an_operation(schema):
    import json

    paths = json.dumps(schema["paths"])
    assert '"#/components/schemas/QuoteLineRequest"' in paths


def test_the_quote_line_list_costs_the_same_for_any_number_of_lines(api, rep, draft, django_assert_num_queries):
    api.get("/api/v1/quote-lines/")  # the token's last use is written once
    # The token, the reader's teams, the count, the page: whatever the number of lines.
    for count in (1, 4):
        while QuoteLine.objects.filter(quote=draft).count() < count:
            quote_line_add(quote=draft, user=rep, description="Riga", unit_price=Decimal("10.00"))
        with django_assert_num_queries(4):
            assert api.get("/api/v1/quote-lines/", {"quote": draft.pk}).json()["count"] == count
