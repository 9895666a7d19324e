"""Stored XSS: a script or markup typed into any text field (or smuggled in by an import or the
API) is shown as text everywhere: pages, the board, reports, the quote PDF, and in the real
browser no script runs.

The payloads are written straight into the database (``update()``, skipping validation) into
every free-text field of every model a page shows: what a hostile import or a future bug could
store, not only what today's forms accept.
"""

import io
import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import models
from django.urls import reverse
from django.utils import timezone

from activities.tests.factories import ActivityFactory
from contacts.tests.factories import ContactFactory, OrganizationFactory
from documents.services import document_upload
from opportunities.services import opportunity_line_add, opportunity_move_stage
from opportunities.tests.factories import OpportunityFactory
from products.tests.factories import ProductFactory
from quotes.services import quote_create, quote_line_add, quote_send

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LONG = '"><script>xss("{label}")</script><img src=x onerror=xss("{label}")>'
SHORT = "<b>xss</b>"
# What must never reach a page unescaped.
RAW = ("<script>xss", "<img src=x onerror", SHORT)
# Free-text fields only: codes with choices (status, currency…) are not text one types.
MODELS = [
    "contacts.Organization",
    "contacts.Contact",
    "opportunities.Opportunity",
    "opportunities.OpportunityLine",
    "products.Product",
    "quotes.Quote",
    "quotes.QuoteLine",
    "activities.Activity",
    "documents.Document",
    "accounts.User",
    "accounts.Team",
]
SKIP = {
    # Written by the database from the stage history (JSON and ids), never typed by anyone.
    "stages_entered",
    "stage_days",
    "password",
    "username",
    "external_id",
    "file",
    "content_type",
    "role",
    "language",
    "key_hash",
}


def _text_fields(model):
    for field in model._meta.concrete_fields:
        if not isinstance(field, models.CharField | models.TextField) or field.choices or field.name in SKIP:
            continue
        if isinstance(field, models.URLField):
            continue  # a URL gets a javascript: payload instead, below
        if field.max_length and field.max_length < len(SHORT):
            continue  # a two-letter province cannot hold a tag
        yield field


def _payload(field) -> str:
    value = LONG.format(label=f"{field.model._meta.model_name}.{field.name}")
    if field.max_length and len(value) > field.max_length:
        value = SHORT
    if isinstance(field, models.EmailField):
        value = SHORT  # shown in mailto: links and as text
    return value


def _poison(*objects):
    """Write a payload into every free-text field of these rows, and javascript: into URLs."""
    for obj in objects:
        model = type(obj)
        values = {field.name: _payload(field) for field in _text_fields(model)}
        values.update(
            {f.name: "javascript:xss('url')" for f in model._meta.concrete_fields if isinstance(f, models.URLField)}
        )
        model.objects.filter(pk=obj.pk).update(**values)
    return sorted(f"{type(o).__name__}.{f.name}" for o in objects for f in _text_fields(type(o)))


@pytest.fixture
def poisoned(rep, teammate, stages, lost_reason, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    org = OrganizationFactory(owner=rep)
    contact = ContactFactory(owner=rep, organization=org)
    deal = OpportunityFactory(owner=rep, organization=org, contact=contact, stage=stages["Qualifying"])
    lost = OpportunityFactory(owner=rep, organization=org, contact=contact)
    opportunity_move_stage(opportunity=lost, stage=stages["Lost"], user=rep, lost_reason=lost_reason, lost_note="x")
    won = OpportunityFactory(owner=teammate, organization=org)
    opportunity_move_stage(opportunity=won, stage=stages["Won"], user=teammate)
    product = ProductFactory()
    line = opportunity_line_add(opportunity=deal, user=rep, product=product, quantity=Decimal(1))
    quote = quote_create(user=rep, opportunity=deal, title="Offerta")
    quote_line = quote_line_add(quote=quote, user=rep, description="Riga", quantity=Decimal(1), unit_price=10)
    quote_send(quote=quote, user=rep)
    document = document_upload(user=rep, file=ContentFile(PDF, name="a.pdf"), opportunity=deal, description="d")
    activity = ActivityFactory(owner=rep, opportunity=deal, due_at=timezone.now())
    fields = _poison(org, contact, deal, lost, won, line, product, quote, quote_line, document, activity, rep, teammate)
    _poison(rep.team)
    return {"deal": deal, "org": org, "contact": contact, "quote": quote, "fields": fields}


def _pages(p):
    return [
        reverse("home"),
        reverse("pipeline:board"),
        reverse("opportunities:list"),
        p["deal"].get_absolute_url(),
        reverse("opportunities:edit", args=[p["deal"].pk]),
        reverse("contacts:organization_list"),
        p["org"].get_absolute_url(),
        reverse("contacts:organization_edit", args=[p["org"].pk]),
        reverse("contacts:contact_list"),
        p["contact"].get_absolute_url(),
        reverse("quotes:list"),
        p["quote"].get_absolute_url(),
        reverse("products:list"),
        reverse("activities:list"),
        reverse("activities:mine"),
        reverse("calendar:month"),
        reverse("calendar:week"),
        reverse("calendar:agenda"),
        reverse("reports:won_lost") + "?group_by=owner",
        reverse("reports:won_lost") + "?group_by=team",
        reverse("reports:won_lost") + "?group_by=product",
        reverse("reports:funnel"),
        reverse("reports:forecast"),
        reverse("reports:lost_deals"),
    ]


@pytest.mark.django_db
def test_every_text_field_is_shown_escaped_on_every_page(client, rep, poisoned):
    assert len(poisoned["fields"]) > 40, poisoned["fields"]  # the payloads really went everywhere
    client.force_login(rep)
    problems = []
    shown = set()
    for url in _pages(poisoned):
        response = client.get(url)
        html = response.content.decode()
        if response.status_code != 200:
            problems.append(f"{url}: {response.status_code}")
            continue
        problems += [f"{url}: raw {raw!r}" for raw in RAW if raw in html]
        if re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", html, re.IGNORECASE):
            problems.append(f"{url}: a javascript: link")
        escaped = re.findall(r"&lt;script&gt;xss\(&quot;([\w.]+)&quot;\)", html)
        if not escaped and "&lt;b&gt;xss&lt;/b&gt;" not in html:
            problems.append(f"{url}: shows none of the payloads, so this check proves nothing there")
        shown.update(escaped)
    assert not problems, "\n".join(problems)
    # The fields whose text a page shows, by name (so a page that stops showing one is noticed).
    for label in [
        "organization.name",
        "contact.first_name",
        "opportunity.name",
        "opportunity.next_step",
        "opportunity.lost_note",
        "quote.title",
        "activity.subject",
        "user.first_name",
        "team.name",
    ]:
        assert label in shown, f"no page showed {label}"


@pytest.mark.django_db
def test_the_quote_pdf_prints_the_payloads_as_text(client, rep, poisoned):
    from pypdf import PdfReader

    client.force_login(rep)
    response = client.get(reverse("quotes:pdf", args=[poisoned["quote"].pk]))

    assert response.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert '<script>xss("quote.title")</script>' in text.replace("\n", "")


@pytest.mark.django_db
def test_the_api_and_exports_return_the_text_as_data(client, rep, poisoned):
    client.force_login(rep)
    api = client.get(f"/api/v1/opportunities/{poisoned['deal'].pk}/", HTTP_ACCEPT="application/json")
    assert api["Content-Type"].startswith("application/json")
    assert api.json()["name"].startswith('"><script>xss(')
    export = client.get(reverse("opportunities:list") + "?export=csv")
    assert export["Content-Type"].startswith("text/csv")
    assert "attachment" in export["Content-Disposition"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_script_runs_in_the_browser(page, live_server, login, rep, poisoned, screenshot):
    """``xss()`` is defined before any page script; a payload that ran would call it. The ``page``
    fixture also fails the test on any Content-Security-Policy violation (an inline script or
    handler the browser refused)."""
    page.add_init_script("window.__xss = []; window.xss = (label) => window.__xss.push(String(label));")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, rep)
    for url in _pages(poisoned):
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__xss") == [], url
        if "/pipeline/" in url:
            screenshot(page, "xss-board")
    assert not dialogs
    # The text is there, as text.
    page.goto(f"{live_server.url}{poisoned['deal'].get_absolute_url()}")
    assert '<script>xss("opportunity.name")</script>' in page.locator("h1").inner_text()
