"""One bulk action (change owner, move stage, set a field, archive) over many records: a job.

The records are fixed when the job is created (their ids, in ``record_ids``); the run walks them in
chunks and commits ``cursor`` with each chunk, so a second run of the same job (a task delivered
twice, a worker that died) continues where the last one stopped and never applies a chunk twice.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class BulkKind(models.TextChoices):
    DEAL = "deal", _("Deals")
    ORGANIZATION = "organization", _("Organizations")
    CONTACT = "contact", _("Contacts")


class BulkAction(models.TextChoices):
    OWNER = "owner", _("Change owner")
    STAGE = "stage", _("Move to a stage")
    FIELD = "field", _("Set a field")
    ARCHIVE = "archive", _("Archive")


class BulkJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="bulk_jobs"
    )
    kind = models.CharField(_("records"), max_length=20, choices=BulkKind.choices)
    action = models.CharField(_("action"), max_length=20, choices=BulkAction.choices)
    # The action's arguments as ids and plain values: {"owner": 3}, {"stage": 7, "lost_reason": 2},
    # {"field": "probability", "value": 40}.
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    # The list's query string the records were chosen with ("all matching"), for the result page.
    query = models.TextField(_("filters"), blank=True)
    record_ids = models.JSONField(_("records"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("records"), default=0)
    cursor = models.PositiveIntegerField(_("records processed"), default=0)
    changed_count = models.PositiveIntegerField(_("changed"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    refused_count = models.PositiveIntegerField(_("refused"), default=0)
    # Why records were refused: {"reason": count}, and a few examples [{"id": 1, "reason": "…"}].
    refusals = models.JSONField(_("refusals"), default=dict, blank=True)
    refused_examples = models.JSONField(_("refused records"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("bulk action")
        verbose_name_plural = _("bulk actions")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="bulkjob_user_created_idx")]

    def __str__(self):
        return f"{self.get_action_display()}: {self.total} {self.get_kind_display()}"

    def get_absolute_url(self):
        return reverse("bulk:job", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def progress(self) -> int:
        if self.is_finished and self.status == self.Status.DONE:
            return 100
        return int(self.cursor * 100 / self.total) if self.total else 0
