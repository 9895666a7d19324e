from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import JSONField, Q, Value
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import italy
from .querysets import ContactQuerySet, OrganizationQuerySet
from .validators import validate_fiscal_code, validate_sdi_code, validate_vat_number, vat_number_canonical


class Organization(models.Model):
    """A company we sell to (an "account")."""

    name = models.CharField(_("name"), max_length=200)
    vat_number = models.CharField(
        _("VAT number"),
        max_length=20,
        blank=True,
        help_text=_("Italian partita IVA (11 digits) or an EU VAT number with its country prefix."),
    )
    fiscal_code = models.CharField(_("fiscal code"), max_length=16, blank=True)
    # Where an Italian customer receives electronic invoices: its SDI code or its PEC address.
    # db_default: rows written by raw SQL (the benchmark's COPY) need no value either.
    sdi_code = models.CharField(
        _("SDI code"),
        max_length=7,
        blank=True,
        default="",
        db_default="",
        help_text=_("Recipient code for electronic invoices (codice destinatario): 7 letters or digits."),
    )
    pec = models.EmailField(
        _("PEC"),
        blank=True,
        default="",
        db_default="",
        help_text=_("Certified e-mail address (posta elettronica certificata)."),
    )
    website = models.URLField(_("website"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    sector = models.CharField(_("sector"), max_length=100, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = models.DecimalField(
        _("annual revenue"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    founded_year = models.PositiveSmallIntegerField(
        _("year founded"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1800), MaxValueValidator(2100)],
    )
    street = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    province = models.CharField(
        _("province"), max_length=50, blank=True, help_text=_("For Italy, the two-letter code (MI, RM…).")
    )
    country = models.CharField(_("country"), max_length=100, blank=True, default="Italia")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organization"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="subsidiaries",
    )
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organizations",
    )
    external_id = models.CharField(
        _("external id"), max_length=100, blank=True, help_text=_("Identifier in the system it was imported from.")
    )
    # Values of the company's own fields (customfields app), keyed by each definition's stable key;
    # written only by this model's services, which validate them (customfields.services).
    custom_fields = models.JSONField(
        _("custom fields"), default=dict, db_default=Value({}, JSONField()), editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    # Set by dedupe.services when this record was merged into another (and archived).
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vat_number"],
                condition=~Q(vat_number=""),
                name="organization_vat_unique",
                violation_error_message=_("Another organization already has this VAT number."),
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="organization_external_id_unique",
                violation_error_message=_("Another organization already has this external id."),
            ),
            models.CheckConstraint(
                condition=Q(annual_revenue__isnull=True) | Q(annual_revenue__gte=0),
                name="organization_revenue_not_negative",
                violation_error_message=_("Annual revenue cannot be negative."),
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="organization_name_required",
                violation_error_message=_("An organization needs a name."),
            ),
        ]
        indexes = [
            models.Index(Lower("name"), name="organization_name_lower_idx"),
            models.Index(fields=["owner"], name="organization_owner_idx"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("contacts:organization_detail", args=[self.pk])

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def address_lines(self) -> list[str]:
        locality = " ".join(part for part in [self.postal_code, self.city] if part)
        if self.province:
            locality = f"{locality} ({self.province})" if locality else self.province
        return [line for line in [self.street, locality, self.country] if line]

    def validate_constraints(self, exclude=None):
        """The duplicate VAT number is an error on the VAT number (its form field, its import
        column), not on the whole record."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            duplicate = _("Another organization already has this VAT number.")
            general = errors.pop(NON_FIELD_ERRORS, [])
            vat = [e for e in general if str(getattr(e, "message", e)) == str(duplicate)]
            if vat:
                errors.setdefault("vat_number", []).extend(vat)
            rest = [e for e in general if e not in vat]
            if rest:
                errors[NON_FIELD_ERRORS] = rest
            raise ValidationError(errors) from None

    def clean(self):
        errors = {}
        self.vat_number = vat_number_canonical(self.vat_number)
        self.fiscal_code = self.fiscal_code.strip().replace(" ", "").upper()
        self.sdi_code = self.sdi_code.strip().replace(" ", "").upper()
        self.pec = self.pec.strip()
        self.province = self.province.strip()
        self.postal_code = self.postal_code.strip()
        if italy.is_italy(self.country):
            errors.update(self._italian_address_errors())
        if self.vat_number:
            try:
                validate_vat_number(self.vat_number)
            except ValidationError as exc:
                errors["vat_number"] = exc.messages
        if self.fiscal_code:
            try:
                validate_fiscal_code(self.fiscal_code)
            except ValidationError as exc:
                errors["fiscal_code"] = exc.messages
        if self.sdi_code:
            try:
                validate_sdi_code(self.sdi_code)
            except ValidationError as exc:
                errors["sdi_code"] = exc.messages
        ancestor, seen = self.parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if self.pk and ancestor.pk == self.pk:
                errors["parent"] = [_("An organization cannot be its own parent, directly or indirectly.")]
                break
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
        if errors:
            raise ValidationError(errors)

    def _italian_address_errors(self) -> dict:
        """An Italian address has a 5-digit CAP and a province sigla (MI, RM…)."""
        errors = {}
        if self.province:
            if italy.is_province(self.province):
                self.province = self.province.upper()
            else:
                errors["province"] = [
                    _("%(value)s is not an Italian province: use its two-letter code (MI, RM, NA…).")
                    % {"value": self.province}
                ]
        if self.postal_code and not italy.is_cap(self.postal_code):
            errors["postal_code"] = [
                _("%(value)s is not an Italian postal code (CAP): it has 5 digits, e.g. 20121.")
                % {"value": self.postal_code}
            ]
        return errors


class Contact(models.Model):
    """A person at an organization (or on their own)."""

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
    )
    notes = models.TextField(_("notes"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
    )
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    # Values of the company's own fields (customfields app), keyed by each definition's stable key;
    # written only by this model's services, which validate them (customfields.services).
    custom_fields = models.JSONField(
        _("custom fields"), default=dict, db_default=Value({}, JSONField()), editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    # Set by dedupe.services when this record was merged into another (and archived).
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(first_name="") & Q(last_name="")),
                name="contact_name_required",
                violation_error_message=_("A contact needs a first or a last name."),
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="contact_external_id_unique",
                violation_error_message=_("Another contact already has this external id."),
            ),
        ]
        indexes = [
            models.Index(Lower("last_name"), Lower("first_name"), name="contact_name_lower_idx"),
            models.Index(Lower("email"), name="contact_email_lower_idx"),
            models.Index(fields=["owner"], name="contact_owner_idx"),
        ]

    def __str__(self):
        return self.full_name

    def get_absolute_url(self):
        return reverse("contacts:contact_detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return " ".join(part for part in [self.first_name, self.last_name] if part)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None
