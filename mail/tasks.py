"""Celery tasks of the e-mail feature: ids in, services do the work, safe to run twice."""

from celery import shared_task

from . import services
from .models import EmailMessage, Mailbox, SendStatus


@shared_task(name="mail.tasks.mailboxes_poll")
def mailboxes_poll() -> int:
    """Poll every mailbox that is due (failing ones wait their back-off). Returns messages imported."""
    imported = 0
    for mailbox in services.mailboxes_due():
        imported += services.mailbox_poll(mailbox=mailbox).imported
    return imported


@shared_task(name="mail.tasks.mailbox_poll")
def mailbox_poll(mailbox_id: int) -> int:
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    return services.mailbox_poll(mailbox=mailbox).imported if mailbox else 0


@shared_task(name="mail.tasks.email_send")
def email_send(email_id: int) -> bool:
    return services.email_send(email_id=email_id)


@shared_task(name="mail.tasks.emails_send_pending")
def emails_send_pending() -> int:
    sent = 0
    for pk in EmailMessage.objects.filter(send_status=SendStatus.PENDING).values_list("pk", flat=True)[:200]:
        sent += services.email_send(email_id=pk)
    return sent
