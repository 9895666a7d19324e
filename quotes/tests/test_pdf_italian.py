"""What an Italian customer expects on a quote: their fiscal code, SDI code and PEC; the sender's fiscal
code, REA number, share capital and PEC; payment terms with an IBAN; a place to accept it (date and
signature) — in Italian when the quote is printed in Italian. The PDF is also rendered to PNG with
poppler's pdftoppm (test-artifacts/quote-it-1.png) for people to look at."""

import io
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from pypdf import PdfReader
from rest_framework.test import APIClient

from contacts.models import Organization
from contacts.tests.factories import ContactFactory, OrganizationFactory
from quotes import services
from quotes.tests.factories import QuoteFactory

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


@pytest.fixture
def sender(settings):
    settings.CRM_COMPANY_NAME = "Esempio S.r.l."
    settings.CRM_COMPANY_VAT = "IT09876540015"
    settings.CRM_COMPANY_FISCAL_CODE = "09876540015"
    settings.CRM_COMPANY_REA = "MI-1234567"
    settings.CRM_COMPANY_SHARE_CAPITAL = "€ 10.000,00 i.v."
    settings.CRM_COMPANY_PEC = "esempio@pec.esempio.it"
    settings.CRM_COMPANY_IBAN = "IT60X0542811101000000123456"
    settings.CRM_QUOTE_PAYMENT_TERMS = ""
    return settings


@pytest.fixture
def quote(rep):
    org = OrganizationFactory(
        owner=rep,
        name="Caffè Rossi S.p.A.",
        vat_number="01234560017",
        fiscal_code="01234560017",
        sdi_code="M5UXCR1",
        pec="amministrazione@pec.caffe-rossi.it",
    )
    contact = ContactFactory(owner=rep, organization=org, first_name="Giulia", last_name="Rossi")
    quote = QuoteFactory(owner=rep, organization=org, contact=contact, title="Macchine per la sede di Milano")
    services.quote_line_add(
        quote=quote, user=rep, description="Macchina espresso", quantity=Decimal(2), unit_price=Decimal("1234.50")
    )
    return services.quote_send(quote=quote, user=rep)


ITALIAN = [
    # the customer
    "Caffè Rossi S.p.A.",
    "Codice fiscale 01234560017",
    "Codice destinatario SDI M5UXCR1",
    "PEC amministrazione@pec.caffe-rossi.it",
    # the sender
    "Codice fiscale 09876540015",
    "REA MI-1234567",
    "Capitale sociale € 10.000,00 i.v.",
    "PEC esempio@pec.esempio.it",
    # payment
    "CONDIZIONI DI PAGAMENTO",
    "Bonifico bancario a 30 giorni data fattura.",
    "IBAN IT60 X054 2811 1010 0000 0123 456 intestato a Esempio S.r.l.",
    # acceptance
    "PER ACCETTAZIONE",
    "Timbro e firma",
    "Cliente: Caffè Rossi S.p.A.",
]


def test_italian_quote_pdf_has_every_field_an_italian_customer_expects(client, rep, sender, quote, program):
    rep.language = "it"
    rep.save()
    client.force_login(rep)
    response = client.get(reverse("quotes:pdf", args=[quote.pk]))
    assert response.status_code == 200
    text = _text(response.content)
    for expected in [*ITALIAN, f"Il cliente accetta il preventivo {quote.number} e le sue condizioni."]:
        assert expected in text, expected
    assert "PAYMENT TERMS" not in text and "Signature" not in text

    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / "quote-it.pdf"
    pdf.write_bytes(response.content)
    pdftoppm = program("pdftoppm", package="poppler-utils")
    subprocess.run(  # noqa: S603 (our own arguments)
        [pdftoppm, "-png", "-r", "80", str(pdf), str(ARTIFACTS / "quote-it")], check=True, timeout=60
    )
    png = ARTIFACTS / "quote-it-1.png"
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 20_000


def test_an_english_user_prints_the_quote_in_italian_for_the_customer(client, rep, sender, quote):
    client.force_login(rep)
    english = _text(client.get(reverse("quotes:pdf", args=[quote.pk])).content)
    for expected in ["Fiscal code 01234560017", "SDI code M5UXCR1", "Share capital", "PAYMENT TERMS", "ACCEPTANCE"]:
        assert expected in english, expected
    italian = _text(client.get(reverse("quotes:pdf", args=[quote.pk]), {"language": "it"}).content)
    for expected in ITALIAN:
        assert expected in italian, expected
    response = client.get(reverse("quotes:pdf", args=[quote.pk]), {"language": "klingon"})
    assert response.status_code == 400 and "language" in response.content.decode()


def test_empty_sender_settings_leave_their_lines_out_and_the_terms_setting_wins(client, rep, sender, quote):
    sender.CRM_COMPANY_REA = ""
    sender.CRM_COMPANY_IBAN = ""
    sender.CRM_QUOTE_PAYMENT_TERMS = "Rimessa diretta alla consegna."
    client.force_login(rep)
    text = _text(client.get(reverse("quotes:pdf", args=[quote.pk]), {"language": "it"}).content)
    assert "REA" not in text and "IBAN" not in text
    assert "Rimessa diretta alla consegna." in text and "Bonifico bancario" not in text


def _api(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    ("field", "value"),
    [("sdi_code", "ABC12"), ("sdi_code", "ABC-123"), ("sdi_code", "ABCD12345"), ("pec", "not an address")],
)
def test_a_bad_sdi_code_or_pec_is_a_400_naming_the_field(rep, field, value):
    response = _api(rep).post("/api/v1/organizations/", {"name": "Verdi S.r.l.", field: value}, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == [field]
    assert not Organization.objects.filter(name="Verdi S.r.l.").exists()


def test_sdi_code_and_pec_through_the_api_and_the_form(client, rep):
    response = _api(rep).post(
        "/api/v1/organizations/",
        {"name": "Verdi S.r.l.", "sdi_code": " usal8pv ", "pec": "verdi@pec.it"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["sdi_code"] == "USAL8PV" and response.json()["pec"] == "verdi@pec.it"

    client.force_login(rep)
    org = Organization.objects.get(name="Verdi S.r.l.")
    page = client.post(
        reverse("contacts:organization_edit", args=[org.pk]),
        {"name": "Verdi S.r.l.", "country": "Italia", "owner": rep.pk, "sdi_code": "12", "pec": "verdi@pec.it"},
    )
    assert page.status_code == 200
    assert "is not an SDI recipient code" in page.content.decode()
    client.post(
        reverse("contacts:organization_edit", args=[org.pk]),
        {"name": "Verdi S.r.l.", "country": "Italia", "owner": rep.pk, "sdi_code": "0000000", "pec": ""},
    )
    org.refresh_from_db()
    assert (org.sdi_code, org.pec) == ("0000000", "")
    detail = client.get(org.get_absolute_url()).content.decode()
    assert "SDI code" in detail and "0000000" in detail
