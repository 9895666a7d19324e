import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from pypdf import PdfReader

from contacts.tests.factories import ContactFactory, OrganizationFactory
from quotes import services
from quotes.tests.factories import QuoteFactory

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _text(pdf: bytes) -> str:
    # Words only: a long description may wrap inside its cell.
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def test_quote_pdf_has_header_customer_lines_vat_and_totals(client, rep, settings):
    settings.CRM_COMPANY_NAME = "Società Àrgento & Figli"
    settings.CRM_COMPANY_ADDRESS = "Via dell’Università 3, 40126 Bologna (BO)"
    org = OrganizationFactory(owner=rep, name="Caffè <Città> & Co.", street="Piazza Duomo 1", vat_number="")
    contact = ContactFactory(owner=rep, organization=org, first_name="Niccolò", last_name="Düsterwald")
    quote = QuoteFactory(owner=rep, organization=org, contact=contact, title="Fornitura “speciale” <urgente>")
    services.quote_line_add(
        quote=quote,
        user=rep,
        description="Macchina espresso & macinino <pro>",
        quantity=Decimal(2),
        unit_price=Decimal("1234.50"),
    )
    services.quote_line_add(
        quote=quote,
        user=rep,
        description="Corso di formazione",
        quantity=Decimal(1),
        unit_price=Decimal("300"),
        vat_rate=Decimal(0),
        vat_exemption_note="Esente art. 10 DPR 633/72",
    )
    quote = services.quote_send(quote=quote, user=rep)
    client.force_login(rep)
    response = client.get(reverse("quotes:pdf", args=[quote.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    ARTIFACTS.mkdir(exist_ok=True)  # for people to look at (pdftoppm -png renders it)
    (ARTIFACTS / "quote.pdf").write_bytes(response.content)
    text = _text(response.content)
    for expected in [
        "Società Àrgento & Figli",
        "Via dell’Università 3",
        "Caffè <Città> & Co.",
        "Niccolò Düsterwald",
        "Fornitura “speciale” <urgente>",
        "Macchina espresso & macinino <pro>",
        "Esente art. 10 DPR 633/72",
        quote.number,
        "€2,469.00",  # 2 × 1234.50
        "€543.18",  # 22% of 2469.00
        "€3,312.18",  # 2469 + 543.18 + 300
    ]:
        assert expected in text, expected


def test_draft_pdf_is_marked_draft(client, rep):
    quote = QuoteFactory(owner=rep)
    client.force_login(rep)
    text = _text(client.get(reverse("quotes:pdf", args=[quote.pk])).content)
    assert "DRAFT" in text
