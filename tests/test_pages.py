"""Every page, rendered by Django's test client: no Django "---------" empty choice anywhere
(issue 16: lists, filters and forms offered "---------" instead of saying what empty means)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from core.forms import DASHES

from .pages import discover_pages

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["en", "it"])
def test_no_page_offers_djangos_dashes(pipeline, language):
    call_command("seed_demo", deals=12, stdout=StringIO())
    manager = User.objects.get(username="manager")
    User.objects.filter(pk=manager.pk).update(language=language)
    pages = discover_pages(manager)
    assert len(pages) >= 35
    client = Client()
    client.force_login(manager)
    found = [path for path in pages if DASHES in client.get(path).content.decode()]
    assert not found, found
