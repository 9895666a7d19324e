"""Done when (issue 20): a page on another origin embeds the form in an iframe, another posts the
plain HTML snippet; the deals land in New for the reps, the submissions show their UTM parameters,
and the same e-mail twice reuses the contact."""

import functools
import http.server
import threading

import pytest

from contacts.models import Contact
from opportunities.models import Opportunity
from webforms.models import Submission, WebForm
from webforms.tests.factories import WebFormFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SITE_PORT = 24010  # this helper's port range: the "customer's website", another origin


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def other_site(tmp_path):
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", SITE_PORT), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{SITE_PORT}"
    server.shutdown()
    server.server_close()


def test_iframe_and_plain_html_snippet_from_another_origin(
    italian, live_server, login, manager, rep, teammate, team, stages, other_site, screenshot, client
):
    folder, origin = other_site
    manager.team = None  # the rotation is between the two reps
    manager.save()
    webform = WebFormFactory(
        owner=manager,
        name="Richiesta informazioni",
        slug="info",
        assignment=WebForm.Assignment.ROUND_ROBIN,
        team=team,
        allowed_origins=origin,
        consent_text="Acconsento al trattamento dei miei dati personali.",
        consent_version="2026-12",
        min_fill_seconds=1,
    )
    # The snippets exactly as the manager copies them from the form's page.
    client.force_login(manager)
    detail = client.get(webform.get_absolute_url(), HTTP_HOST=live_server.url.split("//")[1])
    from html import unescape

    text = detail.content.decode()
    iframe = unescape(text.split('data-testid="snippet-iframe">')[1].split("</textarea>")[0])
    snippet = unescape(text.split('data-testid="snippet-html">')[1].split("</textarea>")[0])
    iframe = iframe.replace("?embed=1", "?embed=1&utm_source=blog&utm_campaign=autunno")
    snippet = snippet.replace('name="utm_campaign" value=""', 'name="utm_campaign" value="fiera-milano"')
    (folder / "iframe.html").write_text(f"<!doctype html><html><body><h1>Negozio</h1>{iframe}</body></html>")
    (folder / "snippet.html").write_text(f"<!doctype html><html><body><h1>Contatti</h1>{snippet}</body></html>")

    page = italian
    # 1. The iframe: the visitor fills in the hosted form inside the other site's page.
    page.goto(f"{origin}/iframe.html")
    frame = page.frame_locator("iframe")
    frame.locator("#id_name").fill("Mario Rossi")
    frame.locator("#id_email").fill("mario.rossi@example.com")
    frame.locator("#id_company").fill("Rossi Srl")
    frame.locator("#id_message").fill("Vorrei un preventivo per 10 licenze.")
    frame.locator("#id_consent").check()
    screenshot(page, "webform-iframe-it")
    page.wait_for_timeout(1100)  # a person takes more than the minimum fill time
    frame.locator("button[type=submit]").click()
    frame.locator("[data-testid=thanks]").wait_for()
    assert "Grazie" in frame.locator("[data-testid=thanks]").inner_text()

    # 2. The plain HTML snippet on another page of the site posts to the CRM.
    page.goto(f"{origin}/snippet.html")
    page.fill("input[name=name]", "Giulia Bianchi")
    page.fill("input[name=email]", "giulia@example.org")
    page.fill("input[name=company]", "Bianchi SpA")
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=thanks]")
    screenshot(page, "webform-snippet-thanks-it")

    # 3. The same person again, through the iframe: the contact is reused.
    page.goto(f"{origin}/iframe.html")
    frame = page.frame_locator("iframe")
    frame.locator("#id_name").fill("Mario Rossi")
    frame.locator("#id_email").fill("MARIO.ROSSI@example.com")
    frame.locator("#id_company").fill("Rossi Srl")
    frame.locator("#id_message").fill("Anche 5 tablet.")
    frame.locator("#id_consent").check()
    page.wait_for_timeout(1100)
    frame.locator("button[type=submit]").click()
    frame.locator("[data-testid=thanks]").wait_for()

    deals = list(Opportunity.objects.order_by("pk"))
    assert len(deals) == 3
    assert [d.owner for d in deals] == [rep, teammate, rep]  # round-robin
    assert {d.stage for d in deals} == {stages["New"]}
    assert Contact.objects.filter(email__iexact="mario.rossi@example.com").count() == 1
    assert deals[0].contact_id == deals[2].contact_id
    assert [s.utm_campaign for s in Submission.objects.order_by("pk")] == ["autunno", "fiera-milano", "autunno"]
    assert Submission.objects.filter(status="accepted").count() == 3

    # 4. The manager sees them in New on the board, and the UTM on the form's page.
    login(page, manager)
    page.goto(f"{live_server.url}/pipeline/")
    new_column = page.locator(f"section[data-stage-id='{stages['New'].pk}']")
    for deal in deals:
        assert deal.name in new_column.inner_text()
    screenshot(page, "webform-board-it")
    page.goto(f"{live_server.url}{webform.get_absolute_url()}")
    table = page.locator("[data-testid=submissions]").inner_text()
    assert "autunno" in table and "fiera-milano" in table and "blog" in table
    screenshot(page, "webform-detail-it")
    page.goto(f"{live_server.url}/forms/review/")
    screenshot(page, "webform-review-it")
    # 5. Each assigned rep finds their own new leads in New on their board.
    for person in (rep, teammate):
        page.context.clear_cookies()
        login(page, person)
        page.goto(f"{live_server.url}/pipeline/")
        column = page.locator(f"section[data-stage-id='{stages['New'].pk}']").inner_text()
        for deal in deals:
            if deal.owner == person:
                assert deal.name in column
    page.goto(f"{live_server.url}/f/info/")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "webform-hosted-phone-it")
