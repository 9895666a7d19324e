"""The CRM served the way the README deploys it: nginx (the Debian package) with deploy/nginx/crm.conf
in front of gunicorn running the production settings on PostgreSQL, over HTTPS.

The configuration is the shipped file with only the site-specific parts replaced (server name,
certificate, ports, static directory). Through it: log-in, a board move as the board's script sends
it, a document upload and its download, static files served by nginx alone, the upload limit, and
the client's address: the log-in lock-out locks the client nginx saw (clients connect from
127.0.0.2 and 127.0.0.3), not nginx's own 127.0.0.1, and a forged X-Forwarded-For changes nothing.

Skipped loudly without nginx (``apt-get install nginx``); a failure where CRM_REQUIRE_SERVICES=1.
"""

import json
import os
import pwd
import re
import subprocess
import time

import pytest
import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from documents.models import Document
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory

from .servers import BIN, ROOT, base_environment, required_program, service_port, start_gunicorn, stop, wait_for_port

CONF = ROOT / "deploy" / "nginx" / "crm.conf"
HOST = "crm.test"
LIMIT = 3  # AXES_FAILURE_LIMIT for this server: three bad passwords lock a username for one client
PASSWORD = "nginx-test-password-1"


def nginx_config(*, http_port, https_port, upstream_port, static_root, cert, key, tmp) -> str:
    """deploy/nginx/crm.conf with the site's names, paths and ports replaced, inside a minimal
    nginx.conf that runs as this user in ``tmp``."""
    text = CONF.read_text(encoding="utf-8")
    replacements = [
        ("server 127.0.0.1:8000", f"server 127.0.0.1:{upstream_port}"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl"),
        ("/etc/letsencrypt/live/crm.example.com/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/crm.example.com/privkey.pem", str(key)),
        ("alias /srv/crm/static/;", f"alias {static_root}/;"),
        ("root /var/www/letsencrypt;", f"root {tmp};"),
        ("server_name crm.example.com;", f"server_name {HOST};"),
    ]
    for old, new in replacements:
        assert old in text, f"deploy/nginx/crm.conf no longer contains {old!r}: update this test"
        text = text.replace(old, new)
    # No IPv6 on every CI machine: the [::] listeners go.
    site = "\n".join(line for line in text.splitlines() if "[::]" not in line)
    # Started as root (a CI container), nginx's workers would switch to "nobody", who cannot read or
    # write the test's private temporary directory: they stay this user.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    return f"""
{user}
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{site}
}}
"""


class FromAddress(HTTPAdapter):
    """Connects from a chosen loopback address (all of 127.0.0.0/8 is this machine on Linux), and
    asks for the site by name over TLS (SNI), as a browser on another machine would."""

    def __init__(self, address, **kwargs):
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, connections, maxsize, block=False, **kwargs):
        kwargs.update(source_address=(self.address, 0), server_hostname=HOST)
        super().init_poolmanager(connections, maxsize, block, **kwargs)


@pytest.fixture
def site(tmp_path):
    """nginx with the shipped configuration in front of gunicorn (production settings, PostgreSQL)."""
    nginx = required_program("nginx", "apt-get install nginx", "/usr/sbin/nginx")
    openssl = required_program("openssl", "apt-get install openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 (our own arguments)
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={HOST}"]
        + ["-addext", f"subjectAltName=DNS:{HOST}", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    http_port, https_port, web_port = service_port(), service_port(), service_port()
    static_root, media_root = tmp_path / "static", tmp_path / "media"
    env = base_environment(
        DJANGO_SETTINGS_MODULE="crm.settings.production",
        ALLOWED_HOSTS=HOST,
        CSRF_TRUSTED_ORIGINS=f"https://{HOST}:{https_port}",
        CRM_TRUSTED_PROXY_COUNT="1",
        AXES_FAILURE_LIMIT=str(LIMIT),
        STATIC_ROOT=str(static_root),
        MEDIA_ROOT=str(media_root),
        # The web process is what is under test here: side effects run inline, no worker needed.
        CELERY_TASK_ALWAYS_EAGER="true",
        SECURE_HSTS_SECONDS="0",
    )
    subprocess.run(  # noqa: S603 (our own arguments)
        # Without the API-docs, DRF and admin assets (40 MB to compress; no page here uses them).
        [str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"]
        + ["-i", "drf_spectacular_sidecar", "-i", "rest_framework", "-i", "admin"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    web = start_gunicorn(web_port, env, tmp_path)
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        nginx_config(
            http_port=http_port,
            https_port=https_port,
            upstream_port=web_port,
            static_root=static_root,
            cert=cert,
            key=key,
            tmp=tmp_path,
        ),
        encoding="utf-8",
    )
    checked = subprocess.run([nginx, "-t", "-c", str(conf)], capture_output=True, text=True)  # noqa: S603
    assert checked.returncode == 0, checked.stderr
    proxy = subprocess.Popen([nginx, "-c", str(conf)], stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        wait_for_port(https_port, proxy, "nginx")
        yield {
            "url": f"https://127.0.0.1:{https_port}",
            "origin": f"https://{HOST}:{https_port}",
            "http_url": f"http://127.0.0.1:{http_port}",
            "static_root": static_root,
            "cert": cert,
            "media_root": media_root,
            "web_log": tmp_path / "web-access.log",
            "nginx_log": tmp_path / "nginx-access.log",
        }
    finally:
        stop(proxy, web)


def browser(site, address="127.0.0.2") -> requests.Session:
    session = requests.Session()
    session.mount("https://", FromAddress(address))
    session.trust_env = False  # no proxy, and no REQUESTS_CA_BUNDLE overriding `verify`
    session.verify = str(site["cert"])  # the test's own certificate, for crm.test
    session.headers["Host"] = f"{HOST}:{site['url'].rsplit(':', 1)[1]}"
    return session


def log_in(session, site, username, password=PASSWORD, *, extra_headers=None):
    session.get(f"{site['url']}/login/")
    return session.post(
        f"{site['url']}/login/",
        {"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{site['origin']}/login/", **(extra_headers or {})},
        allow_redirects=False,
    )


def with_password(user):
    """Factories hash with MD5 for speed; the server only knows the production hashers."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

    user.password = make_password(PASSWORD, hasher=PBKDF2PasswordHasher())
    user.save(update_fields=["password"])
    return user


def body_limit() -> int:
    size = re.search(r"client_max_body_size\s+(\d+)([km]?);", CONF.read_text(encoding="utf-8"))
    return int(size[1]) * {"": 1, "k": 1024, "m": 1024 * 1024}[size[2]]


def test_the_upload_limit_of_nginx_lets_every_upload_the_crm_accepts_through_and_little_more():
    limit = body_limit()
    assert settings.CRM_UPLOAD_MAX_BYTES + 64 * 1024 <= limit <= settings.CRM_UPLOAD_MAX_BYTES * 1.1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_log_in_move_upload_and_download_through_nginx(site, rep, stages):
    with_password(rep)
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    session = browser(site)

    # Plain HTTP only redirects to HTTPS.
    plain = session.get(f"{site['http_url']}/login/", headers={"Host": HOST}, allow_redirects=False, timeout=10)
    assert plain.status_code == 301 and plain.headers["Location"].startswith(f"https://{HOST}")

    logged_in = log_in(session, site, rep.username)
    assert logged_in.status_code == 302 and logged_in.headers["Location"] == "/"
    board = session.get(f"{site['url']}/pipeline/")
    assert board.status_code == 200 and deal.name in board.text

    # A move as static/js/board.js sends it: multipart form data, the CSRF token in a header, JSON back.
    move_url = f"{site['url']}/pipeline/deals/{deal.pk}/move/"
    headers = {
        "X-CSRFToken": session.cookies["csrftoken"],
        "Accept": "application/json",
        "Referer": f"{site['origin']}/pipeline/",
    }
    target = stages["Demo scheduled"]
    moved = session.post(
        move_url, files={"stage": (None, str(target.pk)), "version": (None, str(deal.version))}, headers=headers
    )
    assert moved.status_code == 200, moved.text[:500]
    assert moved.json()["ok"] is True and moved.json()["stage"] == target.pk
    assert Opportunity.objects.get(pk=deal.pk).stage_id == target.pk
    stale = session.post(
        move_url, files={"stage": (None, str(stages["New"].pk)), "version": (None, str(deal.version))}, headers=headers
    )
    assert stale.status_code == 409 and Opportunity.objects.get(pk=deal.pk).stage_id == target.pk

    # A document: uploaded through the deal page's form, downloaded through the permission-checked view.
    content = b"%PDF-1.4\n% offer through nginx\n" + b"x" * 300_000 + b"\n%%EOF\n"
    uploaded = session.post(
        f"{site['url']}/documents/upload/",
        data={"opportunity": deal.pk, "description": "Offer", "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        files={"file": ("offer.pdf", content, "application/pdf")},
        headers={"Referer": f"{site['origin']}/opportunities/{deal.pk}/"},
        allow_redirects=False,
    )
    assert uploaded.status_code == 302, uploaded.text[:500]
    document = Document.objects.get(opportunity=deal)
    assert document.original_name == "offer.pdf"
    assert (site["media_root"] / document.file.name).read_bytes() == content
    downloaded = session.get(f"{site['url']}/documents/{document.pk}/download/")
    assert downloaded.status_code == 200 and downloaded.content == content
    assert downloaded.headers["Content-Disposition"].startswith("attachment")
    assert session.get(f"{site['url']}/media/{document.file.name}").status_code == 404  # never served directly

    # More than nginx accepts: its 413, and gunicorn never sees the request.
    too_big = session.post(
        f"{site['url']}/documents/upload/",
        data={"opportunity": deal.pk, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        files={"file": ("huge.pdf", b"%PDF-1.4\n" + b"0" * body_limit(), "application/pdf")},
        headers={"Referer": f"{site['origin']}/opportunities/{deal.pk}/"},
        allow_redirects=False,
    )
    assert too_big.status_code == 413
    assert Document.objects.filter(opportunity=deal).count() == 1

    # Static files come from disk through nginx, cacheable, never from gunicorn.
    manifest = json.loads((site["static_root"] / "staticfiles.json").read_text())
    hashed = manifest["paths"]["js/board.js"]
    script = session.get(f"{site['url']}/static/{hashed}")
    assert script.status_code == 200 and script.content == (site["static_root"] / hashed).read_bytes()
    assert "public" in script.headers["Cache-Control"] and "Expires" in script.headers
    time.sleep(0.5)  # gunicorn writes its access log after answering
    web_log = site["web_log"].read_text()
    assert "/pipeline/deals/" in web_log and "/documents/upload/" in web_log
    assert "/static/" not in web_log and "huge" not in web_log
    assert web_log.count("POST /documents/upload/") == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_lock_out_locks_the_client_nginx_saw_not_the_proxy(site, rep, teammate):
    from axes.models import AccessAttempt

    with_password(teammate)
    first, second = browser(site, "127.0.0.2"), browser(site, "127.0.0.3")

    for _ in range(LIMIT - 1):
        failed = log_in(first, site, teammate.username, "wrong-password")
        assert failed.status_code == 200  # the form again, with its error
    assert log_in(first, site, teammate.username, "wrong-password").status_code == 429  # the last one allowed
    locked = log_in(first, site, teammate.username)  # now even the right password
    assert locked.status_code == 429 and 'data-testid="locked-out"' in locked.text
    # Whatever the client claims to be in its own X-Forwarded-For, nginx appends what it saw.
    forged = log_in(first, site, teammate.username, extra_headers={"X-Forwarded-For": "203.0.113.9"})
    assert forged.status_code == 429

    # Another client (another address, through the same nginx) is not locked out of the same account.
    other = log_in(second, site, teammate.username)
    assert other.status_code == 302 and other.headers["Location"] == "/"
    assert second.get(f"{site['url']}/").status_code == 200

    attempts = list(AccessAttempt.objects.filter(username=teammate.username).values_list("ip_address", flat=True))
    assert attempts == ["127.0.0.2"], attempts  # the client's address, not nginx's 127.0.0.1
