import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _language_back():
    """Pages read in Italian here leave no language behind for the next test."""
    yield
    translation.deactivate()
