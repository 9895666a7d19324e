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
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

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

    mailbox = models.ForeignKey(
        Mailbox, verbose_name=_("mailbox"), on_delete=models.CASCADE, related_name="folder_states"
    )
    name = models.CharField(verbose_name=_("name"), max_length=255)
    uidvalidity = models.BigIntegerField(verbose_name=_("UIDVALIDITY"), default=0)
    last_uid = models.BigIntegerField(verbose_name=_("last UID"), default=0)

    class Meta:
        verbose_name = _("mailbox folder")
        verbose_name_plural = _("mailbox folders")
        constraints = [models.UniqueConstraint(fields=["mailbox", "name"], name="mailbox_folder_unique")]

    def __str__(self):
        return self.name


class EmailThread(models.Model):
    subject = models.CharField(verbose_name=_("subject"), max_length=998, blank=True)
    last_message_at = models.DateTimeField(verbose_name=_("last message at"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail thread")
        verbose_name_plural = _("e-mail threads")

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

    message_id = models.CharField(verbose_name=_("Message-ID"), max_length=998)
    thread = models.ForeignKey(EmailThread, verbose_name=_("thread"), on_delete=models.PROTECT, related_name="messages")
    mailbox = models.ForeignKey(
        Mailbox, verbose_name=_("mailbox"), on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    folder = models.CharField(verbose_name=_("folder"), max_length=255, blank=True)
    uid = models.BigIntegerField(verbose_name=_("UID"), null=True, blank=True)
    outgoing = models.BooleanField(verbose_name=_("outgoing"), default=False)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    from_name = models.CharField(verbose_name=_("sender name"), max_length=300, blank=True)
    from_address = models.CharField(verbose_name=_("sender address"), max_length=320, blank=True)
    to = models.JSONField(verbose_name=_("to"), default=list, blank=True)
    cc = models.JSONField(verbose_name=_("cc"), default=list, blank=True)
    sent_at = models.DateTimeField(_("date"), db_index=True)
    in_reply_to = models.CharField(verbose_name=_("in reply to"), max_length=998, blank=True)
    references = models.TextField(verbose_name=_("references"), blank=True)
    text_body = models.TextField(verbose_name=_("text body"), blank=True)
    html_body = models.TextField(verbose_name=_("HTML body"), blank=True)
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        verbose_name=_("deal"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
    )
    contacts = models.ManyToManyField("contacts.Contact", verbose_name=_("contacts"), blank=True, related_name="emails")
    organizations = models.ManyToManyField(
        "contacts.Organization", verbose_name=_("organizations"), blank=True, related_name="emails"
    )
    link_status = models.CharField(
        verbose_name=_("link status"), max_length=10, choices=LinkStatus.choices, default=LinkStatus.LINKED
    )
    send_status = models.CharField(
        verbose_name=_("send status"), max_length=10, choices=SendStatus.choices, default="", blank=True
    )
    send_error = models.TextField(verbose_name=_("send error"), blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

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

    message = models.ForeignKey(
        EmailMessage, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attachments"
    )
    filename = models.CharField(verbose_name=_("file name"), max_length=255)
    content_type = models.CharField(verbose_name=_("content type"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(verbose_name=_("size"), default=0)
    document = models.ForeignKey(
        "documents.Document",
        verbose_name=_("document"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    not_stored_reason = models.CharField(verbose_name=_("why not stored"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("e-mail attachment")
        verbose_name_plural = _("e-mail attachments")

    def __str__(self):
        return self.filename


class RejectedMessage(models.Model):
    """A message polling could not import, set aside with its reason (the others were imported)."""

    mailbox = models.ForeignKey(Mailbox, verbose_name=_("mailbox"), on_delete=models.CASCADE, related_name="rejected")
    folder = models.CharField(verbose_name=_("folder"), max_length=255)
    uidvalidity = models.BigIntegerField(
        verbose_name=_("UIDVALIDITY"),
    )
    uid = models.BigIntegerField(
        verbose_name=_("UID"),
    )
    reason = models.TextField(
        verbose_name=_("reason"),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rejected message")
        verbose_name_plural = _("rejected messages")
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
