from django.conf import settings
from django.db import models
from django.db.models import Value
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    ORGANIZATION = "organization", _("Organizations")
    CONTACT = "contact", _("Contacts")
    PRODUCT = "product", _("Products")
    OPPORTUNITY = "opportunity", _("Opportunities")


class ImportJob(models.Model):
    """One uploaded spreadsheet, its column mapping, and the outcome of every row.

    The run is done by the Celery task ``import_job_run``; the page polls ``progress``.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="import_jobs"
    )
    kind = models.CharField(_("records"), max_length=20, choices=ImportKind.choices)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    # Values for rows that leave a field empty (e.g. the pipeline of every deal), as cell text.
    defaults = models.JSONField(_("default values"), default=dict, blank=True)
    # What each value of the file means here, by field: {"stage": {"Contact Made": "12"}, ...};
    # a value mapped to SKIP keeps its rows out of the import, each row saying why.
    value_mapping = models.JSONField(
        _("value mapping"), default=dict, db_default=Value({}, output_field=models.JSONField()), blank=True
    )
    # {"create_related": bool, "probability_scale": "" (detect) | "fraction" | "percent"}
    options = models.JSONField(
        _("options"), default=dict, db_default=Value({}, output_field=models.JSONField()), blank=True
    )
    # Rows the last preview would import; None until a preview ran after the last mapping change.
    preview_importable = models.PositiveIntegerField(_("importable rows in the preview"), null=True, blank=True)
    # After the run: the rejected rows with every error, and the outcome counts by deal status.
    report = models.JSONField(
        _("report"), default=dict, db_default=Value({}, output_field=models.JSONField()), blank=True
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    rejected_file = models.FileField(_("rejected rows"), upload_to="imports/rejected/%Y/%m/", blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Last sign of life of the worker running the job; a stale one lets another worker take over.
    heartbeat_at = models.DateTimeField(_("last progress at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="importjob_user_created_idx")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.original_name}"

    def get_absolute_url(self):
        return reverse("imports:detail", args=[self.pk])

    @property
    def progress(self) -> int:
        """Percentage of rows processed (100 when finished)."""
        if self.status in (self.Status.DONE, self.Status.FAILED):
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ImportMapping(models.Model):
    """A column and value mapping saved by name ("Pipedrive deals"), reused for the next file of the
    same source."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="import_mappings"
    )
    kind = models.CharField(_("records"), max_length=20, choices=ImportKind.choices)
    name = models.CharField(_("name"), max_length=100)
    columns = models.JSONField(_("column mapping"), default=dict, blank=True)
    value_mapping = models.JSONField(_("value mapping"), default=dict, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("saved import mapping")
        verbose_name_plural = _("saved import mappings")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "name"], name="importmapping_unique_name_per_user")
        ]

    def __str__(self):
        return self.name
