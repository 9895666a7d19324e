"""The registry of "related record kinds": every kind of row that belongs to a contact or an
organization declares here how to find, move (merge), export (access/portability) and erase
(right to be forgotten) its rows. Merge, export and erasure only walk this registry, so a new
feature (notes, e-mails, web-form submissions…) joins them by registering its kind from its
app's ``AppConfig.ready()``::

    from privacy.registry import RelatedKind, register

    register(RelatedKind(
        name="notes",                        # unique, used as the file name in the export archive
        model="notes.Note",                  # app_label.ModelName
        contact_field="contact",             # FK to contacts.Contact (or None)
        organization_field="organization",   # FK to contacts.Organization (or None)
        personal_text_fields=("body",),      # text scrubbed of the person's name/e-mail/phone
        erase=None,                          # optional callable(queryset, terms) for files & co.
        purpose=_("Remembering what was agreed"),  # why it is kept (the processing register)
    ))

Rows with no foreign key to the person (the audit trail's old values, the outbox's and the
webhooks' JSON payloads, idempotency records) are not listed here: erasure scrubs every text and
JSON column of every table (``privacy.erasure``), which also covers kinds that forget to register.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import models


@dataclass(frozen=True)
class RelatedKind:
    name: str
    model: str
    contact_field: str | None = None
    organization_field: str | None = None
    # The rows of this kind for a contact/organization, when no plain FK says it (e.g. the audit
    # trail of their deals): callable(target: "contact"|"organization", record) -> QuerySet.
    rows: Callable | None = None
    # False for rows that follow their parent (a deal's audit trail): merge does not move them.
    movable: bool = True
    personal_text_fields: tuple[str, ...] = ()
    # Called by erasure with (queryset of this kind's rows for the person, terms) after the text
    # scrub, e.g. to blank files. Must not delete rows that reports count.
    erase: Callable | None = None
    # Why the CRM keeps this kind of record (the processing register shows it).
    purpose: str = ""
    # How merge moves rows that no plain FK holds (a many-to-many link such as an e-mail's
    # contacts): callable(target, from_ids, survivor) -> rows moved.
    mover: Callable | None = None

    @property
    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    def field_for(self, target: str) -> str | None:
        return self.contact_field if target == "contact" else self.organization_field

    def rows_for(self, target: str, record) -> models.QuerySet:
        """Every row of this kind that belongs to ``record`` (a Contact or an Organization)."""
        if self.rows is not None:
            return self.rows(target, record)
        field = self.field_for(target)
        if field is None:
            return self.model_class.objects.none()
        return self.model_class._base_manager.filter(**{field: record})

    def move(self, target: str, from_ids: list[int], survivor) -> int:
        """Point every row of the merged records at the survivor; the number of rows moved."""
        if not self.movable:
            return 0
        if self.mover is not None:
            return self.mover(target, from_ids, survivor)
        field = self.field_for(target)
        if field is None:
            return 0
        return self.model_class._base_manager.filter(**{f"{field}__in": from_ids}).update(**{field: survivor})


_REGISTRY: dict[str, RelatedKind] = {}


def register(kind: RelatedKind) -> RelatedKind:
    """Add (or replace, by name) a related kind."""
    _REGISTRY[kind.name] = kind
    return kind


def related_kinds(target: str | None = None) -> list[RelatedKind]:
    """The registered kinds, those that can belong to ``target`` ("contact"/"organization") if given."""
    kinds = list(_REGISTRY.values())
    if target is None:
        return kinds
    return [k for k in kinds if k.field_for(target) or k.rows is not None]
