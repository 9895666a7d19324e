"""API tokens and webhooks: what integrators need to build on the API. (Idempotency-Key records
are API plumbing shared by every endpoint: core.models.IdempotencyRecord, core/api/idempotency.py.)"""

import base64
import binascii
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import OutboxEvent
from core.validators import plausible_date

TOKEN_PREFIX = "crm_"  # noqa: S105 (a prefix to recognise our tokens, not a secret)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_generate() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored: the token itself is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, help_text=_("The first characters, to recognise it."))
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    read_only = models.BooleanField(_("read only"), default=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True, validators=[plausible_date])
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


# Standard Webhooks secrets: "whsec_" and the base64 of the key bytes (https://www.standardwebhooks.com).
SECRET_PREFIX = "whsec_"  # noqa: S105 (the scheme's prefix, not a secret)
SECRET_BYTES = 32
SECRET_MAX_CHARS = 300


def webhook_secret_generate() -> str:
    """A new signing secret in the Standard Webhooks form: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def webhook_secret_key(secret: str) -> bytes | None:
    """The key bytes of a ``whsec_`` secret, or None when ``secret`` is not one."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return None
    return key or None


def webhook_secret_standard(secret: str) -> str:
    """``secret`` in the ``whsec_`` form. A raw secret (the form used before Standard Webhooks, whose
    key bytes are its UTF-8 text) becomes ``whsec_`` + base64 of those bytes: the same key, so
    signatures made with it do not change."""
    if webhook_secret_key(secret) is not None:
        return secret
    return SECRET_PREFIX + base64.b64encode(secret.encode()).decode()


class WebhookEvent(models.TextChoices):
    OPPORTUNITY_CREATED = "opportunity.created", _("Opportunity created")
    OPPORTUNITY_UPDATED = "opportunity.updated", _("Opportunity updated")
    OPPORTUNITY_STAGE_CHANGED = "opportunity.stage_changed", _("Opportunity stage changed")
    OPPORTUNITY_WON = "opportunity.won", _("Opportunity won")
    OPPORTUNITY_LOST = "opportunity.lost", _("Opportunity lost")
    ORGANIZATION_CREATED = "organization.created", _("Organization created")
    ORGANIZATION_UPDATED = "organization.updated", _("Organization updated")
    CONTACT_CREATED = "contact.created", _("Contact created")
    CONTACT_UPDATED = "contact.updated", _("Contact updated")
    EMAIL_RECEIVED = "email.received", _("E-mail received")


def outbox_position() -> int:
    """The id of the newest outbox event: a subscription made now receives only the events after
    it. Ids come from the database, so unlike two processes' clocks they never tie or run backwards."""
    return OutboxEvent.objects.aggregate(last=models.Max("pk"))["last"] or 0


class WebhookSubscription(models.Model):
    """Where to POST which events. Payloads are signed with ``secret`` (Standard Webhooks: HMAC-SHA256).

    A subscription receives only events emitted after it was created (``after_event_id``) about
    records its owner may see, both when the event is fanned out and again just before sending."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="webhooks"
    )
    target_url = models.URLField(_("target URL"), max_length=500)
    # Always in the Standard Webhooks form (whsec_…); the key bytes sign both header schemes.
    secret = models.CharField(_("secret"), max_length=SECRET_MAX_CHARS)
    # A secret converted from the raw form used before: its owner is shown the whsec_ form of it
    # on the webhooks page until they rotate it.
    secret_converted = models.BooleanField(_("secret converted"), default=False, db_default=False, editable=False)
    events = models.JSONField(_("events"), default=list)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    after_event_id = models.BigIntegerField(
        _("after event"),
        default=outbox_position,
        editable=False,
        help_text=_("Only events newer than this outbox event are delivered."),
    )

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["-created_at"]

    def __str__(self):
        return self.target_url


class WebhookDelivery(models.Model):
    """One event for one subscription, and what happened when we POSTed it (the delivery log)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("subscription")
    )
    event_id = models.BigIntegerField(_("event"))
    topic = models.CharField(_("event type"), max_length=100)
    # The record the event is about: who may see it decides whether it is sent and shown in the log.
    record_kind = models.CharField(_("record kind"), max_length=20, blank=True)
    record_id = models.BigIntegerField(_("record"), null=True, blank=True)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.TextField(_("response (start)"), blank=True)
    error = models.TextField(_("error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], name="webhook_delivery_once_per_event")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx")]

    def __str__(self):
        return f"{self.topic} → {self.subscription_id} ({self.status})"
