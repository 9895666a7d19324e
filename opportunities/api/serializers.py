from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import serializers

from accounts.permissions import OWNER_HELP
from contacts.models import Contact, Organization
from core.api.fields import VisibleRelatedField
from core.currency import quantize_cents
from customfields.api.fields import CustomFieldsField
from pipeline.models import LostReason, Pipeline, Stage, StageChange
from pipeline.stage_names import seeded_display_name
from tags.api.fields import TagsField

from ..models import Opportunity, OpportunityLine

User = get_user_model()

WRITABLE = [
    "name",
    "organization",
    "contact",
    "amount",
    "currency",
    "expected_close_date",
    "probability",
    "type",
    "next_step",
    "next_step_date",
    "description",
    "owner",
    "lead_source",
    "lost_note",
    "external_id",
    "custom_fields",
]


class OpportunitySerializer(serializers.ModelSerializer):
    organization = VisibleRelatedField(model=Organization, required=False, allow_null=True)
    contact = VisibleRelatedField(model=Contact, required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, help_text=OWNER_HELP
    )
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.all(), required=False)
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.select_related("pipeline"), required=False)
    lost_reason = serializers.PrimaryKeyRelatedField(queryset=LostReason.objects.all(), required=False, allow_null=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True, default=None, allow_null=True)
    contact_name = serializers.CharField(source="contact.full_name", read_only=True, default=None, allow_null=True)
    stage_name = serializers.CharField(source="stage.display_name", read_only=True)
    owner_name = serializers.SerializerMethodField()
    probability = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=100, help_text="Empty: the stage's default."
    )
    weighted_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    archived = serializers.BooleanField(source="is_archived", read_only=True)
    custom_fields = CustomFieldsField()
    tags = TagsField()

    class Meta:
        model = Opportunity
        fields = [
            "id",
            *WRITABLE,
            "tags",
            "pipeline",
            "stage",
            "lost_reason",
            "organization_name",
            "contact_name",
            "stage_name",
            "owner_name",
            "status",
            "amount_base",
            "weighted_amount",
            "probability_is_manual",
            "closed_at",
            "stage_entered_at",
            "position",
            "version",
            "archived",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "status",
            "amount_base",
            "probability_is_manual",
            "closed_at",
            "stage_entered_at",
            "position",
            "version",
            "created_at",
            "updated_at",
        ]
        validators = []  # the services and the database constraints decide; errors come back as 400

    def get_owner_name(self, obj) -> str:
        return obj.owner.get_full_name() or obj.owner.username

    def to_representation(self, obj):
        """The same dict DRF's field-by-field walk builds, written out (:func:`deal_representation`):
        a page of 100 deals spent most of its time in 34 field objects × 100 rows. A test keeps
        the two equal."""
        return deal_representation(deal_values(obj))

    def to_representation_by_fields(self, obj):
        """DRF's own representation, for the test that the fast path above agrees with it."""
        return super().to_representation(obj)


# What a deal's API representation reads, as ``QuerySet.values()`` names: the list reads these
# straight from the database (no model instances), a single deal from its instance.
DEAL_VALUES = (
    "id",
    *(f"{name}_id" if name in ("organization", "contact", "owner") else name for name in WRITABLE),
    "pipeline_id",
    "stage_id",
    "lost_reason_id",
    "status",
    "amount_base",
    "probability_is_manual",
    "closed_at",
    "stage_entered_at",
    "position",
    "version",
    "archived_at",
    "created_at",
    "updated_at",
    "organization__name",
    "contact__first_name",
    "contact__last_name",
    "stage__name",
    "stage__is_system",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
)


def deal_values(obj: Opportunity) -> dict:
    """The :data:`DEAL_VALUES` of a deal instance (its relations already joined)."""
    row = {name: getattr(obj, name) for name in DEAL_VALUES if "__" not in name}
    organization, contact = obj.organization if obj.organization_id else None, obj.contact if obj.contact_id else None
    row.update(
        organization__name=organization.name if organization else None,
        contact__first_name=contact.first_name if contact else None,
        contact__last_name=contact.last_name if contact else None,
        stage__name=obj.stage.name,
        stage__is_system=obj.stage.is_system,
        owner__first_name=obj.owner.first_name,
        owner__last_name=obj.owner.last_name,
        owner__username=obj.owner.username,
        tags=[tag.name for tag in obj.tags.all()],
    )
    return row


def deal_rows_representation(rows) -> list[dict]:
    """The API dicts of a page of :data:`DEAL_VALUES` rows (with their ``tags`` names added): the
    reader's time zone is looked up once, and each stage's name in the reader's language once."""
    tz, stage_names = timezone.get_current_timezone(), {}
    return [deal_representation(row, tz=tz, stage_names=stage_names) for row in rows]


def deal_representation(row: dict, *, tz=None, stage_names: dict | None = None) -> dict:
    """A deal's API dict from its :data:`DEAL_VALUES`."""
    tz = tz or timezone.get_current_timezone()
    stage_key = (row["stage__name"], row["stage__is_system"])
    if stage_names is None or stage_key not in stage_names:
        stage_name = seeded_display_name(row["stage__name"], is_system=row["stage__is_system"])
        if stage_names is not None:
            stage_names[stage_key] = stage_name
    else:
        stage_name = stage_names[stage_key]
    amount, probability = row["amount"], row["probability"]
    return {
        "id": row["id"],
        "name": row["name"],
        "organization": row["organization_id"],
        "contact": row["contact_id"],
        "amount": _decimal(amount),
        "currency": row["currency"],
        "expected_close_date": _date(row["expected_close_date"]),
        "probability": probability,
        "type": row["type"],
        "next_step": row["next_step"],
        "next_step_date": _date(row["next_step_date"]),
        "description": row["description"],
        "owner": row["owner_id"],
        "lead_source": row["lead_source"],
        "lost_note": row["lost_note"],
        "external_id": row["external_id"],
        "custom_fields": dict(row["custom_fields"] or {}),
        "tags": list(row["tags"]),
        "pipeline": row["pipeline_id"],
        "stage": row["stage_id"],
        "lost_reason": row["lost_reason_id"],
        "organization_name": row["organization__name"] if row["organization_id"] else None,
        "contact_name": (
            " ".join(part for part in (row["contact__first_name"], row["contact__last_name"]) if part)
            if row["contact_id"]
            else None
        ),
        "stage_name": stage_name,
        "owner_name": f"{row['owner__first_name']} {row['owner__last_name']}".strip() or row["owner__username"],
        "status": row["status"],
        "amount_base": _decimal(row["amount_base"]),
        "weighted_amount": _decimal(quantize_cents(amount * probability / Decimal(100))),
        "probability_is_manual": row["probability_is_manual"],
        "closed_at": _datetime(row["closed_at"], tz),
        "stage_entered_at": _datetime(row["stage_entered_at"], tz),
        "position": row["position"],
        "version": row["version"],
        "archived": row["archived_at"] is not None,
        "created_at": _datetime(row["created_at"], tz),
        "updated_at": _datetime(row["updated_at"], tz),
    }


_CENTS = Decimal("0.01")


def _decimal(value):
    return None if value is None else f"{value.quantize(_CENTS, rounding=ROUND_HALF_UP):f}"


def _date(value):
    return None if value is None else value.isoformat()


def _datetime(value, tz=None):
    """As DRF writes an aware datetime: in the reader's time zone, UTC as "Z"."""
    if value is None:
        return None
    text = value.astimezone(tz or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class MoveSerializer(serializers.Serializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.select_related("pipeline"))
    lost_reason = serializers.PrimaryKeyRelatedField(queryset=LostReason.objects.all(), required=False, allow_null=True)
    lost_note = serializers.CharField(max_length=300, required=False, allow_blank=True)
    position = serializers.IntegerField(required=False, min_value=-(2**31), max_value=2**31 - 1)
    version = serializers.IntegerField(required=False, min_value=1, help_text="The version you read (or If-Match).")


class StageChangeSerializer(serializers.ModelSerializer):
    from_stage_name = serializers.CharField(
        source="from_stage.display_name", read_only=True, default=None, allow_null=True
    )
    to_stage_name = serializers.CharField(source="to_stage.display_name", read_only=True)
    changed_by_name = serializers.SerializerMethodField()

    class Meta:
        model = StageChange
        fields = [
            "id",
            "from_stage",
            "from_stage_name",
            "to_stage",
            "to_stage_name",
            "changed_by",
            "changed_by_name",
            "changed_at",
            "amount",
            "currency",
            "probability",
            "lost_reason",
        ]

    def get_changed_by_name(self, obj) -> str | None:
        return (obj.changed_by.get_full_name() or obj.changed_by.username) if obj.changed_by else None


class OpportunityLineSerializer(serializers.ModelSerializer):
    opportunity = VisibleRelatedField(model=Opportunity)
    net_total = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    unit_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, help_text="Empty: the product's price."
    )

    class Meta:
        model = OpportunityLine
        fields = [
            "id",
            "opportunity",
            "product",
            "description",
            "quantity",
            "unit_price",
            "discount_percent",
            "net_total",
        ]
        validators = []
