"""Every write of custom field definitions, and the validation of values that every record
service (organizations, contacts, deals, products) calls before it saves.

Errors name the value as ``custom_fields.<key>``, which the pages and the API show on the field."""

import contextlib

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ValidationError

from .models import CHOICE_TYPES, KEY_VALIDATOR, CustomField, Entity, FieldType
from .selectors import definition_get, definitions_for, definitions_forget
from .types import InvalidValue, is_empty, value_clean

RECORD_MODELS = {
    Entity.ORGANIZATION: ("contacts", "Organization"),
    Entity.CONTACT: ("contacts", "Contact"),
    Entity.DEAL: ("opportunities", "Opportunity"),
    Entity.PRODUCT: ("products", "Product"),
}


def error_key(key: str) -> str:
    return f"custom_fields.{key}"


def custom_fields_clean(*, entity: str, data, existing: dict | None = None, creating: bool = False):
    """Validate ``data`` (key → raw value, only the keys being set) against ``entity``'s definitions.

    Returns ``(values, changes)``: the record's whole new ``custom_fields`` dict (keys of archived
    definitions and unknown old keys are kept untouched) and key → (old, new) of what changed. On
    create the defaults fill what is not given. A required field may not be left empty on create,
    nor emptied later. Every problem is reported at once, each under ``custom_fields.<key>``."""
    if data is not None and not isinstance(data, dict):
        raise ValidationError({"custom_fields": [_("Send an object of field keys and values.")]})
    existing = dict(existing or {})
    data = dict(data or {})
    definitions = {d.key: d for d in definitions_for(entity, include_archived=True)}
    errors: dict[str, list[str]] = {}
    values = dict(existing)
    for key, raw in data.items():
        definition = definitions.get(key)
        if definition is None:
            errors[error_key(key)] = [_("There is no custom field with this key.")]
            continue
        if definition.is_archived:
            if raw != existing.get(key):
                errors[error_key(key)] = [_("This field is archived and cannot be changed.")]
            continue
        try:
            cleaned = value_clean(definition, raw, old=existing.get(key))
        except InvalidValue as exc:
            errors[error_key(key)] = [exc.message]
            continue
        if cleaned is None:
            values.pop(key, None)
        else:
            values[key] = cleaned
    for key, definition in definitions.items():
        if definition.is_archived:
            continue
        if creating and key not in data and not is_empty(definition.default) and key not in values:
            with contextlib.suppress(InvalidValue):  # a default that no longer fits is not applied
                values[key] = value_clean(definition, definition.default)
        if definition.required and is_empty(values.get(key)) and (creating or key in data):
            errors.setdefault(error_key(key), [_("%(label)s is required.") % {"label": definition.label}])
    if errors:
        raise ValidationError(errors)
    changes = {
        key: (existing.get(key), values.get(key))
        for key in sorted(set(existing) | set(values))
        if existing.get(key) != values.get(key)
    }
    return values, changes


def custom_fields_audit(*, entity: str, changes: dict) -> dict:
    """``changes`` from :func:`custom_fields_clean` as audit entries: ``custom_fields.<key>`` →
    (old text, new text), in the words a person read at the time."""
    from .selectors import value_display

    out = {}
    for key, (old, new) in changes.items():
        definition = definition_get(entity, key, include_archived=True)
        if definition is None:
            out[error_key(key)] = (old, new)
        else:
            out[error_key(key)] = (value_display(definition, old), value_display(definition, new))
    return out


def custom_fields_apply(obj, *, entity: str, data: dict, creating: bool = False) -> tuple[dict, dict]:
    """Take ``custom_fields`` out of a service's ``data``, validate it into ``obj.custom_fields``.

    Returns ``(the rest of data, audit changes)``. For the services whose other fields are set
    generically (organizations, contacts, products)."""
    if "custom_fields" not in data and not creating:
        return data, {}
    data = dict(data)
    raw = data.pop("custom_fields", None)
    obj.custom_fields, changes = custom_fields_clean(
        entity=entity, data=raw, existing=obj.custom_fields, creating=creating
    )
    return data, custom_fields_audit(entity=entity, changes=changes)


# --- definitions ---------------------------------------------------------------------------------

DEFINITION_FIELDS = frozenset(
    {
        "label_it",
        "label_en",
        "type",
        "required",
        "default",
        "help_text_it",
        "help_text_en",
        "section",
        "order",
        "on_card",
        "in_list",
        "choices",
    }
)


def _check_admin(user) -> None:
    if not (user and user.is_authenticated and user.is_active and user.is_crm_admin):
        raise PermissionDenied(_("Only an administrator can change custom fields."))


def _choices_clean(definition: CustomField, choices, old_choices) -> list[dict]:
    """Choices with stable keys; a choice left out of the new list is kept, marked removed."""
    if definition.type not in CHOICE_TYPES:
        return []
    out, seen = [], set()
    for choice in choices or ():
        if isinstance(choice, str):
            choice = {"key": choice, "label_it": choice, "label_en": choice}
        key = str(choice.get("key", "")).strip()
        try:
            KEY_VALIDATOR(key)
        except Exception:
            raise ValidationError(
                {"choices": [_("“%(key)s” is not a valid choice key (lowercase letters, digits, _).") % {"key": key}]}
            ) from None
        if key in seen:
            raise ValidationError({"choices": [_("The choice key “%(key)s” is repeated.") % {"key": key}]})
        seen.add(key)
        label_it = str(choice.get("label_it") or choice.get("label_en") or key).strip()
        label_en = str(choice.get("label_en") or label_it).strip()
        out.append({"key": key, "label_it": label_it, "label_en": label_en, "removed": bool(choice.get("removed"))})
    for old in old_choices or ():
        if old["key"] not in seen:
            out.append({**old, "removed": True})
    if not any(not c["removed"] for c in out):
        raise ValidationError({"choices": [_("A choice field needs at least one choice.")]})
    return out


def _default_clean(definition: CustomField) -> None:
    if is_empty(definition.default):
        definition.default = None
        return
    try:
        definition.default = value_clean(definition, definition.default)
    except InvalidValue as exc:
        raise ValidationError({"default": [exc.message]}) from None


def _records_with_values(definition: CustomField):
    app_label, model_name = RECORD_MODELS[definition.entity]
    model = apps.get_model(app_label, model_name)
    return model.objects.filter(custom_fields__has_key=definition.key)


def _type_change_check(definition: CustomField, new_type: str) -> None:
    """Refuse a type change some existing value cannot follow, naming how many records and which."""
    probe = CustomField(entity=definition.entity, key=definition.key, type=new_type, choices=definition.choices)
    failing = []
    for pk, values in _records_with_values(definition).values_list("pk", "custom_fields").iterator():
        value = (values or {}).get(definition.key)
        if is_empty(value):
            continue
        if definition.type == FieldType.MONEY and isinstance(value, dict) and new_type != FieldType.MONEY:
            value = value.get("amount")
        if definition.type == FieldType.MULTI_CHOICE and new_type == FieldType.CHOICE and isinstance(value, list):
            value = value[0] if len(value) == 1 else value
        if new_type == FieldType.MULTI_CHOICE and isinstance(value, str):
            value = [value]
        try:
            value_clean(probe, value, old=value)
        except InvalidValue:
            failing.append(pk)
    if failing:
        shown = ", ".join(f"#{pk}" for pk in failing[:20]) + ("…" if len(failing) > 20 else "")
        raise ValidationError(
            {
                "type": [
                    _("%(count)d record(s) have a value that is not a valid %(type)s: %(records)s.")
                    % {"count": len(failing), "type": FieldType(new_type).label, "records": shown}
                ]
            }
        )


def _convert_values(definition: CustomField, old_type: str) -> None:
    """Rewrite the stored values in the new type's form (the check above proved they convert)."""
    for record in _records_with_values(definition).select_for_update().iterator():
        value = record.custom_fields.get(definition.key)
        if old_type == FieldType.MONEY and isinstance(value, dict) and definition.type != FieldType.MONEY:
            value = value.get("amount")
        if old_type == FieldType.MULTI_CHOICE and definition.type == FieldType.CHOICE and isinstance(value, list):
            value = value[0] if len(value) == 1 else value
        if definition.type == FieldType.MULTI_CHOICE and isinstance(value, str):
            value = [value]
        new = value_clean(definition, value, old=value) if not is_empty(value) else None
        if new != record.custom_fields.get(definition.key):
            record.custom_fields[definition.key] = new
            type(record).objects.filter(pk=record.pk).update(custom_fields=record.custom_fields)


@transaction.atomic
def custom_field_create(*, user, entity: str, key: str, **data) -> CustomField:
    """Define a new field (administrators only)."""
    _check_admin(user)
    unknown = set(data) - DEFINITION_FIELDS
    if unknown:
        raise ValidationError({field: [_("This field cannot be changed here.")] for field in sorted(unknown)})
    definition = CustomField(entity=entity, key=(key or "").strip(), **data)
    if not definition.label_en:
        definition.label_en = definition.label_it
    if not definition.label_it:
        definition.label_it = definition.label_en
    definition.choices = _choices_clean(definition, definition.choices, [])
    if CustomField.objects.filter(entity=entity, key=definition.key).exists():
        raise ValidationError({"key": [_("A field with this key already exists (archived ones included).")]})
    definition.full_clean(exclude=["default", "choices"])
    _default_clean(definition)
    definition.save()
    definitions_forget()
    return definition


@transaction.atomic
def custom_field_update(*, user, definition: CustomField, data: dict) -> CustomField:
    """Relabel, reorder or retype a field. The key and record kind never change (values are stored
    under the key). A type change converts every stored value, or is refused naming the records
    whose value would not convert; removing a choice keeps it (marked removed) with its values."""
    _check_admin(user)
    unknown = set(data) - DEFINITION_FIELDS
    if unknown:
        raise ValidationError({field: [_("This field cannot be changed here.")] for field in sorted(unknown)})
    definition = CustomField.objects.select_for_update().get(pk=definition.pk)
    old_type, old_choices = definition.type, list(definition.choices or [])
    for field, value in data.items():
        setattr(definition, field, value)
    definition.label_en = definition.label_en or definition.label_it
    definition.label_it = definition.label_it or definition.label_en
    if "choices" in data or definition.type != old_type:
        new_choices = data.get("choices", old_choices)
        definition.choices = _choices_clean(definition, new_choices, old_choices if definition.is_choice else [])
    definition.full_clean(exclude=["default", "choices"])
    if definition.type != old_type:
        _type_change_check(CustomField(**{**_as_kwargs(definition), "type": old_type}), definition.type)
    _default_clean(definition)
    definition.save()
    if definition.type != old_type:
        _convert_values(definition, old_type)
    definitions_forget()
    return definition


def _as_kwargs(definition: CustomField) -> dict:
    return {f.attname: getattr(definition, f.attname) for f in CustomField._meta.concrete_fields}


@transaction.atomic
def custom_field_archive(*, user, definition: CustomField) -> CustomField:
    """ "Delete" a field: hidden everywhere, its values kept, restorable."""
    _check_admin(user)
    if definition.archived_at is None:
        definition.archived_at = timezone.now()
        definition.save(update_fields=["archived_at", "updated_at"])
    definitions_forget()
    return definition


@transaction.atomic
def custom_field_restore(*, user, definition: CustomField) -> CustomField:
    _check_admin(user)
    if definition.archived_at is not None:
        definition.archived_at = None
        definition.save(update_fields=["archived_at", "updated_at"])
    definitions_forget()
    return definition
