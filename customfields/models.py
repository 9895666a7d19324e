"""Definitions of the fields each company adds to its organizations, contacts, deals and products.

The values live in one JSON column per record kind (``custom_fields``), keyed by the definition's
stable ``key``; this table says what each key means, how it is validated (:mod:`.types`) and
where it shows. A definition is never deleted: archiving hides it and keeps every value."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

KEY_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9_]{0,35}$",
    _("A key starts with a lowercase letter and has only lowercase letters, digits and underscores (at most 36)."),
)


class Entity(models.TextChoices):
    ORGANIZATION = "organization", _("Organization")
    CONTACT = "contact", _("Contact")
    DEAL = "deal", _("Deal")
    PRODUCT = "product", _("Product")


class FieldType(models.TextChoices):
    TEXT = "text", _("Short text")
    LONG_TEXT = "long_text", _("Long text")
    INTEGER = "integer", _("Whole number")
    DECIMAL = "decimal", _("Decimal")
    MONEY = "money", _("Money")
    PERCENT = "percent", _("Percent")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    BOOLEAN = "boolean", _("Yes/no")
    CHOICE = "choice", _("Single choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    URL = "url", _("URL")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    USER = "user", _("User")


CHOICE_TYPES = frozenset({FieldType.CHOICE, FieldType.MULTI_CHOICE})


def _translated(it: str, en: str) -> str:
    return (it or en) if (get_language() or "").startswith("it") else (en or it)


class CustomField(models.Model):
    """One field an administrator added to a record kind.

    ``choices`` (choice types only) is a list of ``{"key", "label_it", "label_en", "removed"}``:
    a removed choice stays in the list so old values are still shown (as removed) and kept."""

    entity = models.CharField(_("record kind"), max_length=20, choices=Entity.choices)
    key = models.CharField(_("key"), max_length=36, validators=[KEY_VALIDATOR])
    label_it = models.CharField(_("label (Italian)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100)
    type = models.CharField(_("type"), max_length=20, choices=FieldType.choices)
    required = models.BooleanField(_("required"), default=False)
    default = models.JSONField(_("default"), null=True, blank=True)
    help_text_it = models.CharField(_("help text (Italian)"), max_length=300, blank=True)
    help_text_en = models.CharField(_("help text (English)"), max_length=300, blank=True)
    section = models.CharField(_("section"), max_length=100, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    on_card = models.BooleanField(_("show on board cards"), default=False)
    in_list = models.BooleanField(_("show as a list column"), default=False)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["entity", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["entity", "key"], name="customfield_entity_key_unique")]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return _translated(self.label_it, self.label_en)

    @property
    def help_text(self) -> str:
        return _translated(self.help_text_it, self.help_text_en)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def is_choice(self) -> bool:
        return self.type in CHOICE_TYPES

    def choice_label(self, key) -> str:
        """The label of choice ``key`` in the reader's language; a removed one says so."""
        for choice in self.choices or ():
            if choice.get("key") == key:
                label = _translated(choice.get("label_it", ""), choice.get("label_en", ""))
                return str(_("%(label)s (removed)") % {"label": label}) if choice.get("removed") else label
        return str(key)

    def active_choices(self) -> list[tuple[str, str]]:
        return [
            (c["key"], _translated(c.get("label_it", ""), c.get("label_en", "")))
            for c in self.choices or ()
            if not c.get("removed")
        ]
