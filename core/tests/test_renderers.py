"""The API's orjson renderer writes the bytes Django REST framework's renderer writes."""

import datetime
import decimal
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer

from core.api.renderers import JSONRenderer
from opportunities.tests.factories import OpportunityFactory

ROME = ZoneInfo("Europe/Rome")

VALUES = {
    "text": "Società Ferri S.p.A. — «offerta» ✓",
    "line separators": "a\u2028b\u2029c",
    "control": "tab\tnew\nline\x01",
    "int": 12345678901234,
    "negative": -7,
    "float": 0.1,
    "bool": [True, False, None],
    "decimal": decimal.Decimal("1234.50"),
    "datetime utc": datetime.datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=datetime.UTC),
    "datetime rome": datetime.datetime(2026, 7, 1, 18, 0, tzinfo=ROME),
    "naive": datetime.datetime(2026, 1, 2, 3, 4, 5),
    "date": datetime.date(2026, 2, 28),
    "time": datetime.time(8, 15, 30, 250000),
    "timedelta": datetime.timedelta(days=2, hours=3),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "lazy": gettext_lazy("Won"),
    "nested": {"list": [1, "two", {"three": 3}], "empty": {}, "tuple": (1, 2)},
    7: "an integer key",
}


@pytest.mark.parametrize("key", list(VALUES), ids=str)
def test_every_kind_of_value_renders_to_the_same_bytes(key):
    data = {"value": VALUES[key]} if not isinstance(key, int) else {key: VALUES[key]}
    assert JSONRenderer().render(data) == DrfJSONRenderer().render(data)


def test_an_integer_beyond_64_bits_still_renders():
    data = {"big": 2**70}
    assert JSONRenderer().render(data) == DrfJSONRenderer().render(data) == b'{"big":1180591620717411303424}'


def test_indented_json_is_still_indented():
    rendered = JSONRenderer().render({"a": [1]}, "application/json; indent=2")
    assert rendered == DrfJSONRenderer().render({"a": [1]}, "application/json; indent=2")
    assert b"\n  " in rendered


def test_an_api_page_of_deals_is_what_drf_would_have_written(client, rep, settings):
    for n in range(5):
        OpportunityFactory(owner=rep, name=f"Fornitura «{n}»", amount=decimal.Decimal("1000.10") * (n + 1))
    client.force_login(rep)
    response = client.get("/api/v1/opportunities/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["count"] == 5
    assert response.content == DrfJSONRenderer().render(response.data)
