"""Mailboxes the CRM watches, the e-mails it keeps, and the templates reps send from.

An e-mail is stored once (unique ``message_id``, a stable one computed when the message has none),
so a second poll, a second mailbox holding the same message or a copy in Sent never duplicates it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .querysets import EmailMessageQuerySet, MailboxQuerySet


class TlsMode(models.TextChoices):
    SSL = "ssl", _("SSL/TLS (port 993)")
    STARTTLS = "starttls", _("STARTTLS (port 143)")
    NONE = "none", _("None (unencrypted, test servers only)")


class Mailbox(models.Model):
    """An IMAP account: a user's own (``owner``) or a shared sales mailbox (no owner, admins manage it)."""

    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="mailboxes",
        help_text=_("Empty for a shared mailbox."),
    )
    host = models.CharField(_("IMAP host"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    tls_mode = models.CharField(_("TLS"), max_length=10, choices=TlsMode.choices, default=TlsMode.SSL)
    username = models.CharField(_("user name"), max_length=255)
    # Fernet token (mail/crypto.py); the password itself is never shown again.
    password_encrypted = models.TextField(_("password (encrypted)"), editable=False)
    folders = models.CharField(
        _("folders to watch"), max_length=500, default="INBOX, Sent", help_text=_("Comma-separated IMAP folder names.")
    )
    active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    next_poll_at = models.DateTimeField(_("next poll"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MailboxQuerySet.as_manager()

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    @property
    def folder_names(self) -> list[str]:
        return [name.strip() for name in self.folders.split(",") if name.strip()]


class MailboxFolder(models.Model):
    """How far polling got in one folder: the UIDVALIDITY seen and the highest UID imported."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="folder_states")
    name = models.CharField(max_length=255)
    uidvalidity = models.BigIntegerField(default=0)
    last_uid = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "name"], name="mailbox_folder_unique")]

    def __str__(self):
        return self.name


class EmailThread(models.Model):
    subject = models.CharField(max_length=998, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.subject


class LinkStatus(models.TextChoices):
    LINKED = "linked", _("Linked to a deal")
    UNLINKED = "unlinked", _("Waiting for a deal")
    DISMISSED = "dismissed", _("Dismissed")


class SendStatus(models.TextChoices):
    RECEIVED = "", _("Received")
    PENDING = "pending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class EmailMessage(models.Model):
    """One e-mail, received by polling or sent from the CRM."""

    message_id = models.CharField(max_length=998)
    thread = models.ForeignKey(EmailThread, on_delete=models.PROTECT, related_name="messages")
    mailbox = models.ForeignKey(Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    folder = models.CharField(max_length=255, blank=True)
    uid = models.BigIntegerField(null=True, blank=True)
    outgoing = models.BooleanField(default=False)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    from_name = models.CharField(max_length=300, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(_("date"), db_index=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    opportunity = models.ForeignKey(
        "opportunities.Opportunity", on_delete=models.SET_NULL, null=True, blank=True, related_name="emails"
    )
    contacts = models.ManyToManyField("contacts.Contact", blank=True, related_name="emails")
    organizations = models.ManyToManyField("contacts.Organization", blank=True, related_name="emails")
    link_status = models.CharField(max_length=10, choices=LinkStatus.choices, default=LinkStatus.LINKED)
    send_status = models.CharField(max_length=10, choices=SendStatus.choices, default="", blank=True)
    send_error = models.TextField(blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EmailMessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        ordering = ["-sent_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["message_id"], name="email_message_id_unique")]
        indexes = [
            models.Index(fields=["opportunity", "-sent_at"], name="email_opp_date_idx"),
            models.Index(fields=["link_status"], name="email_link_status_idx"),
            models.Index(fields=["send_status"], name="email_send_status_idx"),
        ]

    def __str__(self):
        return self.subject


class EmailAttachment(models.Model):
    """An attachment as it came: stored as a document of the deal (or contact), or only recorded with why."""

    message = models.ForeignKey(EmailMessage, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    document = models.ForeignKey(
        "documents.Document", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    not_stored_reason = models.CharField(max_length=300, blank=True)

    def __str__(self):
        return self.filename


class RejectedMessage(models.Model):
    """A message polling could not import, set aside with its reason (the others were imported)."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="rejected")
    folder = models.CharField(max_length=255)
    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "folder", "uidvalidity", "uid"], name="rejected_message_unique")
        ]

    def __str__(self):
        return f"{self.folder} UID {self.uid}"


class EmailTemplate(models.Model):
    """A message reps start from; placeholders such as ``{deal}``, ``{contact}``, ``{organization}``, ``{owner}``."""

    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, default="it")
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))

    class Meta:
        verbose_name = _("e-mail template")
        verbose_name_plural = _("e-mail templates")
        ordering = ["language", "name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="email_template_name_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="email_template_name_required"),
        ]

    def __str__(self):
        return f"{self.name} ({self.language})"
