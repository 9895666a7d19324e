"""Every read of e-mails a page or the API needs, starting from ``visible_to(user)``."""

from django.core.paginator import Paginator
from django.db.models import Count, Max, OuterRef, Prefetch, Subquery, Window

from opportunities.models import Opportunity

from .models import EmailAttachment, EmailMessage, EmailThread, LinkStatus, Mailbox

PAGE_SIZE = 20


def _record_filter(*, opportunity=None, contact=None, organization=None) -> dict:
    if opportunity is not None:
        return {"opportunity": opportunity}
    if contact is not None:
        return {"contacts": contact}
    if organization is not None:
        return {"organizations": organization}
    raise ValueError("A record is needed.")


def email_list(*, user, opportunity=None, contact=None, organization=None):
    """The e-mails of one record the reader may see, newest first, with their attachment count."""
    return (
        EmailMessage.objects.visible_to(user)
        .filter(**_record_filter(opportunity=opportunity, contact=contact, organization=organization))
        .exclude(link_status=LinkStatus.DISMISSED)
        .annotate(
            attachment_count=Subquery(
                EmailAttachment.objects.filter(message_id=OuterRef("pk"))
                .order_by()
                .values("message_id")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            )
        )
        .order_by("-sent_at", "-id")
    )


def email_recent(*, user, limit: int = 5, **record):
    """The newest e-mails of a record and how many there are in all: one query (the total rides along
    as a window count), whatever the number of e-mails."""
    emails = list(email_list(user=user, **record).annotate(total=Window(Count("pk")))[:limit])
    return emails, (emails[0].total if emails else 0)


def thread_page(*, user, page: int | str = 1, **record):
    """One page of a record's threads, newest activity first, each with its visible messages of the
    record in date order. Three queries whatever the number of e-mails."""
    messages = email_list(user=user, **record)
    threads = (
        EmailThread.objects.filter(messages__in=messages.values("pk"))
        .annotate(latest=Max("messages__sent_at"))
        .order_by("-latest", "-id")
        .distinct()
    )
    page_obj = Paginator(threads, PAGE_SIZE).get_page(page)
    ids = [thread.pk for thread in page_obj.object_list]
    by_thread: dict[int, list] = {}
    for message in messages.filter(thread_id__in=ids).order_by("sent_at", "id"):
        by_thread.setdefault(message.thread_id, []).append(message)
    for thread in page_obj.object_list:
        thread.visible_messages = by_thread.get(thread.pk, [])
    return page_obj


def email_get(*, user, pk: int) -> EmailMessage:
    """One e-mail the reader may see (DoesNotExist otherwise), with its attachments and documents."""
    return (
        EmailMessage.objects.visible_to(user)
        .select_related("opportunity", "thread")
        .prefetch_related(Prefetch("attachments"), "contacts", "organizations")
        .get(pk=pk)
    )


def unlinked_list(*, user):
    """E-mails waiting for a deal, that the reader may see, newest first, with their contacts."""
    return (
        EmailMessage.objects.visible_to(user)
        .filter(link_status=LinkStatus.UNLINKED)
        .prefetch_related("contacts")
        .order_by("-sent_at", "-id")
    )


def deal_choices(*, user, email: EmailMessage):
    """The open deals an unlinked e-mail can go to: those of its contacts and organizations the user may change."""
    contact_ids = [c.pk for c in email.contacts.all()]
    org_ids = list(email.organizations.values_list("pk", flat=True))
    from django.db.models import Q

    return (
        Opportunity.objects.editable_by(user)
        .active()
        .open()
        .filter(Q(contact_id__in=contact_ids) | Q(organization_id__in=org_ids))
        .order_by("name")
    )


def mailbox_list(*, user):
    return Mailbox.objects.visible_to(user).select_related("owner").order_by("name", "id")


def email_list_thread(*, user, email: EmailMessage):
    """The other messages of an e-mail's thread the reader may see, oldest first."""
    return list(EmailMessage.objects.visible_to(user).filter(thread_id=email.thread_id).order_by("sent_at", "id"))
