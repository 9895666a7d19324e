from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.validators import plausible_date

from .querysets import ActivityQuerySet


class Activity(models.Model):
    """A call, meeting, task or e-mail note, usually about a deal, a contact or an organization."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        TASK = "task", _("Task")
        EMAIL = "email", _("E-mail note")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TASK)
    subject = models.CharField(_("subject"), max_length=200)
    due_at = models.DateTimeField(_("due"), null=True, blank=True, validators=[plausible_date])
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True, validators=[plausible_date])
    notes = models.TextField(_("notes"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="activities"
    )
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        verbose_name=_("opportunity"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="activities",
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="activities",
    )
    organization = models.ForeignKey(
        "contacts.Organization",
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="activities",
    )
    reminder_minutes = models.PositiveIntegerField(
        _("reminder (minutes before)"),
        null=True,
        blank=True,
        default=30,
        help_text=_("An e-mail reminder goes to the owner this many minutes before it is due; empty for none."),
    )
    reminder_sent_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True, editable=False)
    # Grows with every change a person makes: the calendar feed's SEQUENCE, so calendar
    # applications replace the copy they keep of a moved event.
    version = models.PositiveIntegerField(_("version"), default=1, db_default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["done", "due_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done=False) | Q(done_at__isnull=False),
                name="activity_done_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "done", "due_at"], name="activity_owner_due_idx"),
            models.Index(fields=["opportunity", "due_at"], name="activity_opp_due_idx"),
        ]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return reverse("activities:edit", args=[self.pk])

    @property
    def regarding(self):
        """The record the activity is about: the deal, else the contact, else the organization."""
        return self.opportunity or self.contact or self.organization

    @property
    def end_at(self):
        if self.due_at is None:
            return None
        import datetime

        return self.due_at + datetime.timedelta(minutes=self.duration_minutes or 0)


class CalendarFeedToken(models.Model):
    """The secret in a user's personal iCal feed URL. Regenerating it revokes the old URL."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now=True)

    class Meta:
        verbose_name = _("calendar feed token")
        verbose_name_plural = _("calendar feed tokens")

    def __str__(self):
        return f"{self.user} feed"
