"""Security settings a user relies on without seeing them: CSP, login throttling, deploy checks."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/", "/pipeline/", "/opportunities/", "/organizations/", "/reports/won-lost/", "/api/v1/docs/"]
)
def test_pages_carry_a_content_security_policy_without_inline_scripts(client, crm_admin, url):
    client.force_login(crm_admin)

    response = client.get(url)

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", policy)[1]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in policy
    html = response.content.decode()
    inline = [m for m in re.findall(r"<script\b([^>]*)>", html) if "src=" not in m and "application/json" not in m]
    assert not inline, f"inline <script> on {url}"


def test_templates_have_no_inline_scripts_handlers_or_styles():
    offenders = []
    for path in ROOT.glob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script\b([^>]*)>", text):
            if "src=" not in match[1]:
                offenders.append(f"{path.relative_to(ROOT)}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path.relative_to(ROOT)}: on*= handler attribute")
        if re.search(r'\sstyle\s*=\s*"', text):
            offenders.append(f"{path.relative_to(ROOT)}: style attribute")
    assert not offenders, "\n".join(offenders)


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account_for_that_address(client, rep):
    url = reverse("login")
    for _ in range(5):
        client.post(url, {"username": rep.username, "password": "wrong"})

    response = client.post(url, {"username": rep.username, "password": "test-password-123"})

    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_successful_login_before_the_limit_resets_the_count(client, rep):
    url = reverse("login")
    for _ in range(4):
        client.post(url, {"username": rep.username, "password": "wrong"})
    assert client.post(url, {"username": rep.username, "password": "test-password-123"}).status_code == 302


def test_check_deploy_with_production_settings_prints_no_warning():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "crm.example.com",
        "DATABASE_URL": "postgres://crm:secret@127.0.0.1:5432/crm",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests of this run, never in production
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "complaint"),
    [
        ("short1", "too short"),
        ("password123", "too common"),
        ("48291736450", "entirely numeric"),
        ("rep-username-rep", "too similar"),
    ],
)
def test_djangos_password_validators_refuse_weak_passwords(client, rep, password, complaint):
    rep.username = "rep-username"
    rep.save()
    client.force_login(rep)

    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "test-password-123", "new_password1": password, "new_password2": password},
    )

    assert response.status_code == 200
    assert complaint in " ".join(response.context["form"].errors["new_password2"])
    rep.refresh_from_db()
    assert rep.check_password("test-password-123")


@pytest.mark.django_db
@pytest.mark.parametrize("stored_name", ["page.html", "image.svg", "script.js", "noextension"])
def test_uploaded_files_are_never_served_inline_as_a_page(client, rep, settings, tmp_path, stored_name):
    """Even a file that got into storage with a markup name and content (an old import, a manual
    copy) goes out from the page and the API as an attachment the browser will not render."""
    from django.core.files.base import ContentFile

    from documents.models import Document
    from documents.services import document_upload
    from opportunities.tests.factories import OpportunityFactory

    settings.MEDIA_ROOT = tmp_path
    deal = OpportunityFactory(owner=rep)
    document = document_upload(user=rep, file=ContentFile(b"plain text", name="note.txt"), opportunity=deal)
    (tmp_path / document.file.name).write_bytes(b"<html><script>alert(1)</script></html>")
    Document.objects.filter(pk=document.pk).update(original_name=stored_name)
    client.force_login(rep)

    for url in (reverse("documents:download", args=[document.pk]), f"/api/v1/documents/{document.pk}/download/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Disposition"].startswith("attachment"), url
        assert response["Content-Type"] == "application/octet-stream", url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert "sandbox" in response["Content-Security-Policy"], url
