from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    MENTION = "mention", _("Mentioned in a note")
    ASSIGNED = "assigned", _("Deal assigned to me")
    ACTIVITY_DUE = "activity_due", _("Activity due or overdue")
    ROTTEN = "rotten", _("My deal gone rotten")
    WEB_LEAD = "web_lead", _("New web-form lead")
    RULE = "rule", _("Automation rule")


class Notification(models.Model):
    """Something a user is told about in the CRM (the bell). Written only by ``notifications.services.notify``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    text = models.CharField(_("text"), max_length=300)
    url = models.CharField(_("link"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # What it is about, so "once per event" can be enforced (an outbox event delivered twice).
    key = models.CharField(_("key"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_idx"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], condition=~Q(key=""), name="notification_once_per_key")
        ]

    def __str__(self):
        return self.text


class Channel(models.TextChoices):
    APP = "app", _("In the CRM")
    EMAIL = "email", _("By e-mail")
    BOTH = "both", _("In the CRM and by e-mail")


class NotificationPreference(models.Model):
    """How a user wants to be told about one kind (no row: in the CRM)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=5, choices=Channel.choices, default=Channel.APP)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_once")]

    def __str__(self):
        return f"{self.kind}: {self.channel}"


class DigestSetting(models.Model):
    """The daily digest of unread notifications, by e-mail at ``hour`` (the site's time zone)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notification_digest"
    )
    hour = models.PositiveSmallIntegerField(_("digest hour"), null=True, blank=True)
    last_sent_on = models.DateField(_("last digest"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("daily digest")
        verbose_name_plural = _("daily digests")
        constraints = [
            models.CheckConstraint(condition=Q(hour__gte=0, hour__lte=23), name="digest_hour_range"),
        ]

    def __str__(self):
        return f"{self.user_id}: {self.hour}"
