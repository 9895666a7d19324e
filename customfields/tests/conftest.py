import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _language_back():
    """Pages read in Italian here leave the thread's language as it was for the next test."""
    language = translation.get_language()
    yield
    translation.activate(language) if language else translation.deactivate()
