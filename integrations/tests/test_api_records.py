"""The API over the records around a deal: products, lines, quotes, documents, activities."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from activities.tests.factories import ActivityFactory
from opportunities.tests.factories import OpportunityFactory
from products.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def as_user(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_products_everyone_reads_managers_write(rep, manager):
    ProductFactory(name="Tablet", unit_price=Decimal("300.00"))
    assert [p["name"] for p in as_user(rep).get("/api/v1/products/").json()["results"]] == ["Tablet"]

    refused = as_user(rep).post("/api/v1/products/", {"name": "Printer", "unit_price": "99.00"}, format="json")
    assert refused.status_code == 403  # as for changing a product (the permission matrix)
    created = as_user(manager).post("/api/v1/products/", {"name": "Printer", "unit_price": "99.00"}, format="json")
    assert created.status_code == 201 and created.json()["currency"] == "EUR"


def test_opportunity_lines_are_added_through_the_service_and_scoped_to_visible_deals(rep, other_rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    product = ProductFactory(name="Tablet", unit_price=Decimal("300.00"))
    client = as_user(rep)

    created = client.post(
        "/api/v1/opportunity-lines/",
        {"opportunity": deal.pk, "product": product.pk, "quantity": "2", "discount_percent": "10"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["unit_price"] == "300.00" and created.json()["net_total"] == "540.00"
    assert len(client.get("/api/v1/opportunity-lines/", {"opportunity": deal.pk}).json()["results"]) == 1
    assert as_user(other_rep).get("/api/v1/opportunity-lines/").json()["results"] == []
    hidden = as_user(other_rep).post("/api/v1/opportunity-lines/", {"opportunity": deal.pk, "quantity": "1"})
    assert hidden.status_code == 400 and "opportunity" in hidden.json()["error"]["fields"]


def test_a_line_whose_total_cannot_be_stored_is_a_400_not_a_500(rep, stages):
    """Found by schemathesis: 5,384 × 29,470,344,861.00 overflowed the 14-digit total."""
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client = as_user(rep)
    line = client.post(
        "/api/v1/opportunity-lines/",
        {"opportunity": deal.pk, "description": "Day", "quantity": "1", "unit_price": "100.00"},
        format="json",
    ).json()

    response = client.patch(
        f"/api/v1/opportunity-lines/{line['id']}/", {"quantity": "5384", "unit_price": "29470344861"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"quantity", "unit_price"}
    assert "largest amount" in response.json()["error"]["fields"]["quantity"][0]
    unchanged = client.get(f"/api/v1/opportunity-lines/{line['id']}/").json()
    assert (unchanged["quantity"], unchanged["unit_price"]) == ("1.000", "100.00")


def test_quote_from_a_deal_is_numbered_when_sent_and_frozen(rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    from opportunities.services import opportunity_line_add

    opportunity_line_add(opportunity=deal, user=rep, description="Tablet", quantity=Decimal(1), unit_price=Decimal(100))
    client = as_user(rep)

    draft = client.post("/api/v1/quotes/", {"opportunity": deal.pk}, format="json")
    assert draft.status_code == 201, draft.content
    assert len(draft.json()["lines"]) == 1 and draft.json()["status"] == "draft"
    sent = client.post(f"/api/v1/quotes/{draft.json()['id']}/send/")
    assert sent.status_code == 200
    assert sent.json()["number"].startswith(f"{timezone.localdate().year}/")
    again = client.post(f"/api/v1/quotes/{draft.json()['id']}/send/")
    assert again.status_code == 400
    accepted = client.post(f"/api/v1/quotes/{draft.json()['id']}/accept/", {"mark_deal_won": True}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    deal.refresh_from_db()
    assert deal.status == "won"


def test_a_quote_carries_its_totals_with_vat_per_rate(rep, stages, django_assert_max_num_queries):
    from quotes.services import quote_line_add

    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client = as_user(rep)
    quote_id = client.post("/api/v1/quotes/", {"opportunity": deal.pk, "copy_lines": False}, format="json").json()["id"]
    quote_line_add(
        quote=quote_id,
        user=rep,
        description="Espresso machine",
        quantity=Decimal(2),
        unit_price=Decimal("1234.50"),
        vat_rate=Decimal(22),
    )
    quote_line_add(
        quote=quote_id,
        user=rep,
        description="Training",
        quantity=Decimal(1),
        unit_price=Decimal("300.00"),
        vat_rate=Decimal(0),
        vat_exemption_note="Esente art. 10 DPR 633/72",
    )

    totals = client.get(f"/api/v1/quotes/{quote_id}/").json()["totals"]

    assert totals == {
        "subtotal": "2769.00",
        "groups": [
            {"rate": "22.00", "taxable": "2469.00", "vat": "543.18", "notes": []},
            {"rate": "0.00", "taxable": "300.00", "vat": "0.00", "notes": ["Esente art. 10 DPR 633/72"]},
        ],
        "vat_total": "543.18",
        "total": "3312.18",
    }
    for _ in range(5):
        other = client.post("/api/v1/quotes/", {"opportunity": deal.pk, "copy_lines": False}, format="json").json()
        quote_line_add(quote=other["id"], user=rep, description="Day", quantity=Decimal(1), unit_price=Decimal(10))
    with django_assert_max_num_queries(8):  # six quotes: no query per quote for its totals
        listed = {q["id"]: q["totals"]["total"] for q in client.get("/api/v1/quotes/").json()["results"]}
    assert len(listed) == 6 and listed[quote_id] == "3312.18"


def test_documents_upload_refusals_and_safe_download(rep, other_rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client = as_user(rep)

    html = SimpleUploadedFile("evil.html", b"<script>alert(1)</script>", content_type="text/html")
    refused = client.post("/api/v1/documents/", {"file": html, "opportunity": deal.pk}, format="multipart")
    assert refused.status_code == 400 and "file" in refused.json()["error"]["fields"]

    pdf = SimpleUploadedFile("offerta.pdf", b"%PDF-1.4\n%test\n", content_type="application/pdf")
    created = client.post("/api/v1/documents/", {"file": pdf, "opportunity": deal.pk}, format="multipart")
    assert created.status_code == 201, created.content
    download = client.get(f"/api/v1/documents/{created.json()['id']}/download/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert as_user(other_rep).get(f"/api/v1/documents/{created.json()['id']}/download/").status_code == 404


def test_activities_crud(rep, teammate, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client = as_user(rep)
    due = (timezone.now() + datetime.timedelta(days=1)).isoformat()

    created = client.post(
        "/api/v1/activities/", {"subject": "Call Anna", "kind": "call", "due_at": due, "opportunity": deal.pk}
    )
    assert created.status_code == 201, created.content
    activity_id = created.json()["id"]
    assert client.patch(f"/api/v1/activities/{activity_id}/", {"subject": "Call Anna back"}).status_code == 200
    theirs = ActivityFactory(owner=teammate, subject="Theirs")
    assert as_user(rep).patch(f"/api/v1/activities/{theirs.pk}/", {"subject": "x"}).status_code == 403
    assert client.delete(f"/api/v1/activities/{activity_id}/").status_code == 204


@pytest.mark.parametrize("due_at", ["0054-09-21T00:20:28Z", "3054-01-01T09:00:00Z"])
def test_an_activity_due_in_an_implausible_year_is_refused_by_field(rep, due_at):
    response = as_user(rep).post("/api/v1/activities/", {"subject": "Typo", "due_at": due_at})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["due_at"] == ["Enter a date between the years 1900 and 2999."]
