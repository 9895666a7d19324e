"""Small things a new user noticed (issue 16): each one has its test here."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert "max-age=86400" in response["Cache-Control"]
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_debug_is_off_unless_asked_for():
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env["DJANGO_SETTINGS_MODULE"] = "crm.settings.base"
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_unknown_url_shows_our_page_in_the_users_language(client, rep):
    client.force_login(rep)
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="it")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-testid="not-found"' in html
    assert "Pagina non trovata" in html
    assert "URLconf" not in html


@pytest.mark.parametrize("name", ["api:docs", "api:redoc"])
def test_api_docs_have_no_inline_style(client, rep, name):
    client.force_login(rep)
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<style" not in html
    assert " style=" not in html
    assert "fonts.googleapis" not in html
    assert re.search(r'href="/static/css/api_docs\.css"', html)


def test_italian_title_of_the_tokens_page_is_capitalised(client, rep):
    client.force_login(rep)
    html = client.get(reverse("integrations:tokens"), HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "<title>Token API ·" in html
    assert "token API" not in html
