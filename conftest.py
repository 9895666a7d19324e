"""Fixtures shared by every app's tests: users and teams, the seeded pipelines, and the browser."""

import contextlib
import os
import shutil
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
_browser_skip_reason: list[str] = []
_missing_programs: list[str] = []


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings):
    """Tests run Celery tasks in-process (the broker tests opt out) and hash passwords quickly."""
    from crm.celery import app

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The logged-in user is cached by id (accounts/backends.py); ids come back after a rollback.
    import uuid

    from accounts import backends

    backends.namespace = f"auth-user-{uuid.uuid4().hex}"
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
    """A transactional test starts after an earlier one flushed the database: it gets the seeded
    pipelines back, as a fresh database has them, whichever fixtures it asks for."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
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
        _browser_skip_reason.append("CRM_BROWSER_TESTS=skip")
        pytest.skip("browser tests switched off with CRM_BROWSER_TESTS=skip")
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium`."
        if mode == "required" or os.environ.get("CI"):
            pytest.fail(f"Browser tests are required here. {message}")
        _browser_skip_reason.append(message)
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
        message = f"needs {name} (apt-get install {package})"
        if not shutil.which(name) and message not in _missing_programs:
            _missing_programs.append(message)  # listed again at the end of the run
        return required_program(name, f"apt-get install {package}")

    return find


def pytest_terminal_summary(terminalreporter):
    if _browser_skip_reason and "CRM_BROWSER_TESTS=skip" not in _browser_skip_reason:
        terminalreporter.write_sep("!", "BROWSER TESTS WERE SKIPPED", red=True, bold=True)
        terminalreporter.write_line(_browser_skip_reason[0], red=True)
    if _missing_programs:
        terminalreporter.write_sep("!", "TESTS SKIPPED FOR WANT OF A PROGRAM", red=True, bold=True)
        for message in _missing_programs:
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
