"""Fixtures shared by every app's tests: users and teams, the seeded pipelines, and the browser."""

import contextlib
import os
import urllib.parse
from pathlib import Path

import pytest

from tests.servers import required_program

# Playwright's sync API runs an event loop in the test thread; Django's ORM must still be usable there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parent / "test-artifacts"


@pytest.fixture(autouse=True, scope="session")
def _own_redis_database_per_worker():
    """Under pytest-xdist (``make test`` runs two workers) each worker caches in its own Redis
    database: one worker's ``cache.clear()`` must not empty the sessions and throttle counters of
    a test running in the other."""
    from django.conf import settings
    from django.test.utils import override_settings

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or not settings.REDIS_URL:
        yield
        return
    url = urllib.parse.urlsplit(settings.REDIS_URL)
    database = int(url.path.strip("/") or 0)
    own = url._replace(path=f"/{(database + 1 + int(worker[2:])) % 16}").geturl()
    caches = {
        alias: {**config, "LOCATION": own} if config.get("LOCATION") == settings.REDIS_URL else config
        for alias, config in settings.CACHES.items()
    }
    with override_settings(CACHES=caches, REDIS_URL=own):
        yield


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings):
    """Tests run Celery tasks in-process (the broker tests opt out) and hash passwords quickly."""
    from crm.celery import app

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The logged-in user is cached by id (accounts/backends.py); ids come back after a rollback.
    import uuid

    from accounts import backends

    backends.namespace = f"auth-user-{uuid.uuid4().hex}"
    # A request whose response was never closed (an unread download) leaves the custom field
    # definitions cached in this thread: the next test starts without them.
    from customfields.selectors import definitions_cache_stop

    definitions_cache_stop()
    # A page read in Italian leaves Italian active in this thread: each test starts in the default language.
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    from customfields import selectors as customfield_selectors

    customfield_selectors.namespace = f"customfield-definitions-{uuid.uuid4().hex}"
    from customfields import display as customfield_display

    customfield_display.namespace = f"customfield-user-names-{uuid.uuid4().hex}"
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = previous


def _ensure_seeded():
    """Transactional tests flush the database; put the migration-seeded pipelines back if so."""
    import importlib

    from django.apps import apps

    from pipeline.models import Pipeline

    if not Pipeline.objects.exists():
        importlib.import_module("pipeline.migrations.0002_seed_pipelines").seed(apps, None)


@pytest.fixture(autouse=True)
def _seeded_after_flush(request):
    """A test using the database finds the seeded pipelines, as a fresh database has them, even when
    an earlier transactional test of its process flushed the database (under pytest-xdist a file's
    transactional tests do not all wait for the end of the run)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or (
        "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    )
    if transactional:
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in request.fixturenames:
        request.getfixturevalue("db")
    else:
        return
    _ensure_seeded()


@pytest.fixture
def pipeline(db):
    """The seeded default pipeline."""
    from pipeline.models import Pipeline

    _ensure_seeded()
    return Pipeline.objects.get(is_default=True)


@pytest.fixture
def stages(pipeline):
    """The default pipeline's stages by English name: ``stages["Won"]``."""
    return {stage.name: stage for stage in pipeline.stages.all()}


@pytest.fixture
def classic_stages(db):
    from pipeline.models import Pipeline

    _ensure_seeded()
    return {stage.name: stage for stage in Pipeline.objects.get(name="Classic pipeline").stages.all()}


@pytest.fixture
def lost_reason(db):
    from pipeline.models import LostReason

    _ensure_seeded()
    return LostReason.objects.get(name="Price")


@pytest.fixture
def team(db):
    from accounts.tests.factories import TeamFactory

    return TeamFactory(name="Nord")


@pytest.fixture
def other_team(db):
    from accounts.tests.factories import TeamFactory

    return TeamFactory(name="Sud")


@pytest.fixture
def manager(team):
    from accounts.models import User
    from accounts.tests.factories import UserFactory

    user = UserFactory(username="manager", role=User.Role.MANAGER, team=team)
    team.manager = user
    team.save()
    return user


@pytest.fixture
def rep(team, manager):
    from accounts.tests.factories import UserFactory

    return UserFactory(username="rep", team=team)


@pytest.fixture
def teammate(team, manager):
    from accounts.tests.factories import UserFactory

    return UserFactory(username="teammate", team=team)


@pytest.fixture
def other_rep(other_team):
    from accounts.tests.factories import UserFactory

    return UserFactory(username="other_rep", team=other_team)


@pytest.fixture
def crm_admin(db):
    from accounts.models import User
    from accounts.tests.factories import UserFactory

    return UserFactory(username="crm_admin", role=User.Role.ADMIN)


# --- The real browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright. Skips loudly without a browser; fails in CI.

    ``CRM_BROWSER_TESTS``: ``auto`` (default: run if Chromium is installed, fail if missing under
    CI), ``required`` (fail if missing) or ``skip``.
    """
    mode = os.environ.get("CRM_BROWSER_TESTS", "auto")
    if mode == "skip":
        pytest.skip("browser tests switched off with CRM_BROWSER_TESTS=skip")
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium`."
        if mode == "required" or os.environ.get("CI"):
            pytest.fail(f"Browser tests are required here. {message}")
        pytest.skip(f"BROWSER TESTS SKIPPED. {message}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@contextlib.contextmanager
def checked_tab(browser, *, locale: str):
    """A fresh browser tab (desktop size) asking for ``locale``, whose JavaScript errors and
    Content-Security-Policy violations (an inline script or style that slipped in) fail the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale=locale)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    errors = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" and "Content Security Policy" in msg.text else None,
    )
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab in English whose console errors fail the test."""
    with checked_tab(browser, locale="en-US") as tab:
        yield tab


@pytest.fixture
def italian(browser, live_server):
    """The same tab as ``page``, whose browser asks for Italian."""
    with checked_tab(browser, locale="it-IT") as tab:
        yield tab


@pytest.fixture
def login(live_server):
    """``login(page, user)`` logs ``user`` in through the real login form."""

    def do_login(tab, user, password="test-password-123"):
        tab.goto(f"{live_server.url}/login/")
        tab.fill("#id_username", user.username)
        tab.fill("#id_password", password)
        tab.click("button[type=submit]")
        tab.wait_for_url(f"{live_server.url}/")
        return tab

    return do_login


@pytest.fixture
def screenshot():
    """``screenshot(page, "name")`` saves a PNG under test-artifacts/ for people to look at."""

    def take(tab, name):
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def program():
    """``program("soffice", package="libreoffice-calc-nogui")``: the path of a program CI installs from
    Debian (``.ci/run``). Without it the test is skipped loudly on a laptop, and fails where
    ``CRM_REQUIRE_SERVICES=1`` says everything must run."""

    def find(name: str, *, package: str) -> str:
        return required_program(name, f"apt-get install {package}")

    return find


def _skip_messages(terminalreporter) -> list[str]:
    """The reasons of the skipped tests, as the reports carry them (also from pytest-xdist workers)."""
    messages = []
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        if message not in messages:
            messages.append(message)
    return messages


def pytest_terminal_summary(terminalreporter):
    skipped = _skip_messages(terminalreporter)
    browser = [m for m in skipped if "BROWSER TESTS SKIPPED" in m]
    if browser:
        terminalreporter.write_sep("!", "BROWSER TESTS WERE SKIPPED", red=True, bold=True)
        terminalreporter.write_line(browser[0].split("BROWSER TESTS SKIPPED. ", 1)[-1], red=True)
    programs = [m for m in skipped if "NOT INSTALLED" in m]
    if programs:
        terminalreporter.write_sep("!", "TESTS SKIPPED FOR WANT OF A PROGRAM", red=True, bold=True)
        for message in programs:
            terminalreporter.write_line(message, red=True)


def pytest_runtest_setup(item):
    """Tests marked ``postgres`` / ``redis`` need the real service: skipped on a laptop's defaults,
    but a failure where ``CRM_REQUIRE_SERVICES=1`` says the services are there (CI's second run)."""
    from django.conf import settings

    required = os.environ.get("CRM_REQUIRE_SERVICES") == "1"
    missing = []
    if item.get_closest_marker("postgres") and settings.DATABASES["default"]["ENGINE"] != (
        "django.db.backends.postgresql"
    ):
        missing.append("PostgreSQL (set DATABASE_URL)")
    if item.get_closest_marker("redis") and not settings.REDIS_URL:
        missing.append("Redis (set REDIS_URL)")
    if missing:
        message = "needs " + " and ".join(missing)
        if required:
            pytest.fail(f"{message}, and CRM_REQUIRE_SERVICES=1 says it must run here")
        pytest.skip(message)


@pytest.fixture(autouse=True, scope="session")
def _compiled_translations():
    """Compile the .po catalogs (the .mo files are generated, not in git) before any test renders."""
    from core.i18n import compile_catalogs

    compile_catalogs()
