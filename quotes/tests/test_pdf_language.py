import io

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from quotes.tests.factories import QuoteFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "footer"), [("it", "Pagina 1"), ("en", "Page 1")])
def test_quote_pdf_footer_in_the_readers_language(client, rep, language, footer):
    quote = QuoteFactory(owner=rep)
    client.force_login(rep)
    client.cookies["django_language"] = language
    with translation.override(language):
        response = client.get(reverse("quotes:pdf", args=[quote.pk]), HTTP_ACCEPT_LANGUAGE=language)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert f" · {footer}" in text
