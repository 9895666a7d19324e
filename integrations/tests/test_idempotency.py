"""Every POST the schema says takes an ``Idempotency-Key`` honours it: a retry with the same key
creates nothing new and gets the first response back, marked ``Idempotent-Replayed: true``; the
same key on a different request is refused. Multipart uploads count their file's content."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from contacts.tests.factories import OrganizationFactory
from documents.models import Document
from opportunities.tests.factories import OpportunityFactory
from products.tests.factories import ProductFactory
from quotes.services import quote_create

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def api(crm_admin):
    client = APIClient()
    client.force_authenticate(crm_admin)
    return client


def _due():
    return (timezone.now() + datetime.timedelta(days=1)).isoformat()


# path -> (model counted, body maker, format). Keep in step with the schema (see the last test).
def _bodies(owner, stages):
    deal = OpportunityFactory(owner=owner, stage=stages["New"])
    org = OrganizationFactory(owner=owner)
    product = ProductFactory()
    draft = quote_create(user=owner, organization=org, title="Idem quote")
    return {
        "/api/v1/organizations/": ({"name": "Idem S.r.l."}, "json"),
        "/api/v1/contacts/": ({"first_name": "Anna", "last_name": "Idem", "organization": org.pk}, "json"),
        "/api/v1/opportunities/": ({"name": "Idem deal", "organization": org.pk, "amount": "10.00"}, "json"),
        "/api/v1/opportunity-lines/": ({"opportunity": deal.pk, "product": product.pk, "quantity": "2"}, "json"),
        "/api/v1/products/": ({"name": "Idem product", "unit_price": "9.00"}, "json"),
        "/api/v1/quotes/": ({"opportunity": deal.pk, "copy_lines": False}, "json"),
        "/api/v1/quote-lines/": ({"quote": draft.pk, "product": product.pk, "quantity": "2"}, "json"),
        "/api/v1/activities/": ({"subject": "Idem call", "kind": "call", "due_at": _due()}, "json"),
        "/api/v1/webhooks/": (
            {"target_url": "https://93.184.215.14/hook", "secret": "s" * 20, "events": ["opportunity.won"]},
            "json",
        ),
        "/api/v1/documents/": (
            lambda: {"file": SimpleUploadedFile("offer.pdf", PDF), "opportunity": deal.pk},
            "multipart",
        ),
        "/api/v1/bulk-jobs/": (
            {"action": "field", "field": "probability", "value": 30, "ids": [deal.pk]},
            "json",
        ),
        "/api/v1/notes/": ({"opportunity": deal.pk, "body": "Idem note"}, "json"),
    }


ADVERTISED = [
    "/api/v1/organizations/",
    "/api/v1/contacts/",
    "/api/v1/opportunities/",
    "/api/v1/opportunity-lines/",
    "/api/v1/products/",
    "/api/v1/quotes/",
    "/api/v1/quote-lines/",
    "/api/v1/activities/",
    "/api/v1/webhooks/",
    "/api/v1/documents/",
    "/api/v1/bulk-jobs/",
    "/api/v1/notes/",
]


def _count(api, path):
    return api.get(path, {"page_size": 200}).json()["count"]


@pytest.mark.parametrize("path", ADVERTISED)
def test_a_retry_with_the_same_key_creates_once_and_replays_the_first_answer(api, crm_admin, stages, path):
    body, fmt = _bodies(crm_admin, stages)[path]
    make = body if callable(body) else (lambda: body)
    before = _count(api, path)

    first = api.post(path, make(), format=fmt, HTTP_IDEMPOTENCY_KEY="retry-1")
    retry = api.post(path, make(), format=fmt, HTTP_IDEMPOTENCY_KEY="retry-1")

    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert _count(api, path) == before + 1


def test_a_document_retry_stores_one_file_and_another_file_under_the_same_key_is_refused(api, crm_admin, stages):
    deal = OpportunityFactory(owner=crm_admin, stage=stages["New"])

    def post(content):
        return api.post(
            "/api/v1/documents/",
            {"file": SimpleUploadedFile("offer.pdf", content), "opportunity": deal.pk},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="upload-7",
        )

    first, retry = post(PDF), post(PDF)
    assert first.status_code == retry.status_code == 201, first.content
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert Document.objects.filter(opportunity=deal).count() == 1

    other = post(PDF + b"% another version\n")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert Document.objects.filter(opportunity=deal).count() == 1


def test_the_table_above_covers_every_post_that_advertises_an_idempotency_key():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    advertised = {
        path
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", []))
    }
    # Not a create: the person's erasure (privacy/tests/test_legal_hold_and_api.py retries it).
    assert advertised == set(ADVERTISED) | {"/api/v1/contacts/{id}/erase/"}
