from decimal import Decimal

import pytest
from django.utils import translation

from core.templatetags.crm import money, number


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "€1,234.56"), ("it", "1.234,56\xa0€")],
)
def test_money_follows_the_active_language(language, expected):
    with translation.override(language):
        assert money(Decimal("1234.56"), "EUR") == expected


def test_money_of_nothing_is_a_dash():
    assert money(None) == "—"


def test_number_groups_thousands():
    with translation.override("it"):
        assert number(Decimal("12345")) == "12.345"
