"""Every page in the real Chromium, in English and Italian (issue 16):

- no page outside the board scrolls sideways, on a phone (390 px) or a desktop (1440 px);
- axe-core (vendored, ``tests/vendor``) finds no serious or critical accessibility violation.

Pages are discovered as ``.ci/fuzz_pages.py`` does (``tests/pages.py``), on the demo data seen by a
manager (who sees the most: their team's records, the team home). A new page is checked without
anyone listing it here; a new violation fails the test with the rule, the element and the page.
"""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from contacts.tests.factories import valid_partita_iva
from imports.models import ImportKind
from imports.services import import_job_create, import_job_set_mapping

from .pages import discover_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
WIDTHS = (390, 1440)
# The board scrolls sideways on purpose: its columns are a horizontal strip.
SIDEWAYS_OK = {"pipeline:board", "pipeline:board_pipeline"}
BLOCKING = ("serious", "critical")


@pytest.fixture
def site(live_server, pipeline):
    """The demo data, an import waiting for its preview, and the pages a manager can open."""
    call_command("seed_demo", deals=16, stdout=StringIO())
    manager = User.objects.get(username="manager")
    rows = f"Ragione sociale;Partita IVA;E-mail\nAlfa srl;{valid_partita_iva(9)};\nBeta srl;123;not-a-mail\n"
    job = import_job_create(
        user=manager, kind=ImportKind.ORGANIZATION, file=SimpleUploadedFile("aziende.csv", rows.encode())
    )
    import_job_set_mapping(job=job, mapping={"name": "Ragione sociale", "vat_number": "Partita IVA", "email": "E-mail"})
    pages = discover_pages(manager)
    pages[f"/imports/{job.pk}/preview/"] = "imports:preview"
    return manager, pages


def _tab(browser, live_server, user, language, width):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=language)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    return context, tab


def _axe(tab) -> list[str]:
    # evaluate() runs outside the page's Content-Security-Policy, which forbids injected scripts.
    tab.evaluate(AXE.read_text(encoding="utf-8"))
    result = tab.evaluate(
        "async () => JSON.stringify((await axe.run(document, {resultTypes: ['violations']})).violations)"
    )
    found = []
    for violation in json.loads(result):
        if violation["impact"] in BLOCKING:
            targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
            found.append(f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])}×): {targets}")
    return found


@pytest.mark.parametrize("language", ["en", "it"])
def test_every_page_fits_the_screen_and_passes_axe(browser, live_server, site, language):
    manager, pages = site
    User.objects.filter(pk=manager.pk).update(language=language)
    assert len(pages) >= 35, sorted(pages)
    sideways, violations = [], []
    for width in WIDTHS:
        context, tab = _tab(browser, live_server, manager, language, width)
        errors = []
        tab.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        try:
            for path, view in sorted(pages.items()):
                response = tab.goto(live_server.url + path, wait_until="load")
                assert response.status == 200, (path, response.status)
                assert tab.locator("html").get_attribute("lang") == language, path
                overflow = tab.evaluate(
                    "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                if overflow > 0 and view not in SIDEWAYS_OK:
                    sideways.append(f"{path} at {width} px is {overflow} px too wide")
                if width == WIDTHS[-1]:  # the same markup at both widths: one axe run per page
                    violations += [f"{path}: {v}" for v in _axe(tab)]
        finally:
            context.close()
        assert not errors, errors
    problems = [f"{len(sideways)} pages scroll sideways:", *sideways]
    problems += [f"{len(violations)} serious or critical axe violations:", *violations]
    assert not (sideways or violations), "\n".join(problems)
