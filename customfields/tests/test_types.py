"""Every type: what is stored for a valid value, and a message for an invalid one."""

import datetime

import pytest
from django.utils import timezone

from customfields.models import CustomField
from customfields.types import InvalidValue, value_clean

CHOICES = [
    {"key": "a", "label_it": "A", "label_en": "A", "removed": False},
    {"key": "b", "label_it": "B", "label_en": "B", "removed": False},
    {"key": "old", "label_it": "Vecchio", "label_en": "Old", "removed": True},
]


def field(type_):
    return CustomField(entity="deal", key="k", label_it="K", label_en="K", type=type_, choices=CHOICES)


@pytest.mark.parametrize(
    ("type_", "raw", "stored"),
    [
        ("text", "  Ciao ", "Ciao"),
        ("long_text", "riga 1\nriga 2", "riga 1\nriga 2"),
        ("integer", "42", 42),
        ("integer", 7, 7),
        ("decimal", "3,50", "3.5"),
        ("decimal", 2.25, "2.25"),
        ("money", "1234.5", {"amount": "1234.50", "currency": "EUR"}),
        ("money", {"amount": "10", "currency": "usd"}, {"amount": "10.00", "currency": "USD"}),
        ("percent", "12.5", "12.5"),
        ("date", "2026-12-31", "2026-12-31"),
        ("date", datetime.date(2026, 1, 2), "2026-01-02"),
        ("datetime", "2026-12-31T10:30:00+01:00", "2026-12-31T09:30:00Z"),
        ("boolean", "sì", True),
        ("boolean", False, False),
        ("choice", "a", "a"),
        ("multi_choice", ["b", "a", "b"], ["b", "a"]),
        ("multi_choice", "a, b", ["a", "b"]),
        ("url", "https://example.it/x", "https://example.it/x"),
        ("email", "Mario@Example.IT", "mario@example.it"),
        ("phone", "02 1234 5678", "+390212345678"),
        ("phone", "+41 44 668 18 00", "+41446681800"),
    ],
)
def test_valid_values_are_stored_in_one_form(type_, raw, stored):
    assert value_clean(field(type_), raw) == stored


@pytest.mark.parametrize(
    ("type_", "raw", "message"),
    [
        ("text", "x" * 300, "at most 255"),
        ("integer", "4.5", "whole number"),
        ("integer", True, "whole number"),
        ("decimal", "abc", "number"),
        ("money", {"amount": "1", "currency": "EURO"}, "currency"),
        ("percent", "120", "between 0 and 100"),
        ("date", "31/12/2026", "YYYY-MM-DD"),
        ("date", "2026-02-30", "YYYY-MM-DD"),
        ("datetime", "ieri", "date and time"),
        ("boolean", "forse", "yes or no"),
        ("choice", "z", "not one of the choices"),
        ("choice", "old", "was removed"),
        ("multi_choice", ["a", "z"], "not one of the choices"),
        ("url", "not a url", "valid URL"),
        ("email", "mario@", "valid e-mail"),
        ("phone", "123", "valid phone"),
        ("user", "abc", "Choose a user"),
    ],
)
def test_invalid_values_are_refused_with_a_message(type_, raw, message):
    with pytest.raises(InvalidValue) as error:
        value_clean(field(type_), raw)
    assert message in error.value.message


@pytest.mark.django_db
def test_user_values_are_active_users(rep):
    assert value_clean(field("user"), str(rep.pk)) == rep.pk
    rep.is_active = False
    rep.save()
    with pytest.raises(InvalidValue):
        value_clean(field("user"), rep.pk)


def test_a_removed_choice_already_on_the_record_may_stay():
    assert value_clean(field("choice"), "old", old="old") == "old"
    assert value_clean(field("multi_choice"), ["old", "a"], old=["old"]) == ["old", "a"]


def test_empty_is_none():
    for type_ in ("text", "integer", "multi_choice", "money"):
        assert value_clean(field(type_), "") is None
        assert value_clean(field(type_), None) is None


def test_naive_datetimes_are_read_in_the_current_time_zone(settings):
    with timezone.override("Europe/Rome"):
        assert value_clean(field("datetime"), "2026-07-01T12:00") == "2026-07-01T10:00:00Z"
