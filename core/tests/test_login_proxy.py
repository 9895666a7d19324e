"""The log-in lock-out keys on the real client's address: behind the README's reverse proxy
(``CRM_TRUSTED_PROXY_COUNT=1``) five bad passwords from one client do not lock the user out for
everyone else, and without a proxy a forged ``X-Forwarded-For`` is ignored, so an attacker cannot
dodge the lock-out by rotating it."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
PASSWORD = "test-password-123"


def attempt(rep, password, *, forwarded=None, remote=PROXY):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client().post(reverse("login"), {"username": rep.username, "password": password}, **headers)


def test_behind_one_proxy_a_locked_out_client_does_not_lock_out_another(rep, settings):
    settings.CRM_TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        attempt(rep, "wrong", forwarded="203.0.113.5")

    assert attempt(rep, PASSWORD, forwarded="203.0.113.5").status_code == 429  # A is locked out
    assert attempt(rep, PASSWORD, forwarded="198.51.100.7").status_code == 302  # B logs in


def test_behind_one_proxy_only_the_entry_the_proxy_added_counts(rep, settings):
    """The attacker writes the victim's address first; the proxy appends the attacker's real one."""
    settings.CRM_TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        attempt(rep, "wrong", forwarded=f"198.51.100.7, 192.0.2.{n}, 203.0.113.5")

    assert attempt(rep, PASSWORD, forwarded="203.0.113.5").status_code == 429
    assert attempt(rep, PASSWORD, forwarded="198.51.100.7").status_code == 302


def test_without_a_proxy_a_forged_forwarded_header_is_ignored(rep, settings):
    settings.CRM_TRUSTED_PROXY_COUNT = 0
    for n in range(5):
        attempt(rep, "wrong", forwarded=f"192.0.2.{n}", remote="203.0.113.5")

    assert attempt(rep, PASSWORD, forwarded="192.0.2.99", remote="203.0.113.5").status_code == 429
    assert attempt(rep, PASSWORD, remote="198.51.100.7").status_code == 302


def test_a_garbage_forwarded_header_falls_back_to_the_connection_address(rep, settings):
    settings.CRM_TRUSTED_PROXY_COUNT = 1
    assert attempt(rep, "wrong", forwarded="not-an-address\x00").status_code == 200
    for _ in range(4):
        attempt(rep, "wrong", forwarded="not-an-address")

    assert attempt(rep, PASSWORD, forwarded="").status_code == 429  # both counted on the proxy's address


@pytest.mark.parametrize("proxies, expected", [(0, "203.0.113.5"), (1, "192.0.2.1")])
def test_the_api_throttle_keys_on_the_same_address(settings, proxies, expected):
    """DRF reads its own setting (NUM_PROXIES): without it, a forged header was the throttle's key."""
    from rest_framework.settings import api_settings
    from rest_framework.test import APIRequestFactory
    from rest_framework.throttling import AnonRateThrottle

    settings.CRM_TRUSTED_PROXY_COUNT = proxies
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    request = APIRequestFactory().get("/api/v1/schema/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="192.0.2.1")

    assert proxies == api_settings.NUM_PROXIES
    assert AnonRateThrottle().get_ident(request) == expected


def test_the_settings_give_drf_the_proxy_count():
    from django.conf import settings

    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.CRM_TRUSTED_PROXY_COUNT == 0
