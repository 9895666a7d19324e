import pytest
from django.core.cache import cache

from webforms.tests.factories import WebFormFactory


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Each test starts with its own rate-limit counters."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def webform(pipeline, manager, rep):
    """A form whose deals go to ``rep``, managed by ``manager``."""
    return WebFormFactory(owner=manager, assignee=rep, slug="contatti", name="Contatti")
