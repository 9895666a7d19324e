"""The ``custom_fields`` object of the organization, contact, deal and product API bodies."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

CUSTOM_FIELDS_HELP = (
    "The record's custom field values, keyed by each definition's `key` (see `/api/v1/custom-fields/`). "
    "Values by type: text, long_text, url, email → string; phone → string (stored E.164); integer → integer; "
    'decimal, percent → string ("12.5"); money → {"amount": "10.00", "currency": "EUR"} (or an amount '
    'in the base currency); date → "YYYY-MM-DD"; datetime → ISO 8601 (returned in UTC, "Z"); boolean → '
    "true/false; choice → a choice key; multi_choice → a list of choice keys; user → a user id. On write, "
    'only the keys sent change; null or "" empties a value. An invalid value is a 400 naming '
    "`custom_fields.<key>`."
)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "nullable": True,
            "oneOf": [
                {"type": "string"},
                {"type": "integer"},
                {"type": "boolean"},
                {"type": "array", "items": {"type": "string"}},
                {
                    "type": "object",
                    "properties": {"amount": {"type": "string"}, "currency": {"type": "string"}},
                },
            ],
        },
        "description": CUSTOM_FIELDS_HELP,
        "example": {"settore": "manifattura", "budget_approvato": {"amount": "15000.00", "currency": "EUR"}},
    }
)
class CustomFieldsField(serializers.DictField):
    """A dict passed to the record's service, which validates each value against its definition."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", CUSTOM_FIELDS_HELP)
        super().__init__(child=serializers.JSONField(allow_null=True), **kwargs)

    def to_representation(self, value):
        return dict(value or {})
