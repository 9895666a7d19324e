import datetime

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from ..models import PrivacySettings, RetentionReview


@transaction.atomic
def retention_set(*, user, days: int) -> PrivacySettings:
    """How long contacts with no activity are kept before they are listed for review (admins)."""
    from django.core.exceptions import PermissionDenied

    from accounts.permissions import sees_everything

    if not sees_everything(user):
        raise PermissionDenied
    settings = PrivacySettings.current()
    settings.retention_days = max(0, int(days))
    settings.save()
    return settings


def _latest(queryset, field: str):
    """The latest ``field`` of ``queryset``'s rows for the outer contact (one index probe each)."""
    return Subquery(queryset.order_by(f"-{field}").values(field)[:1])


@transaction.atomic
def retention_review_refresh(*, now: datetime.datetime | None = None) -> int:
    """List (never delete) the active contacts with no activity since the retention period: no
    change to the contact, no activity, no deal updated, no e-mail, note or web-form submission.
    Returns how many are listed."""
    from activities.models import Activity
    from contacts.models import Contact
    from mail.models import EmailMessage
    from notes.models import Note
    from opportunities.models import Opportunity
    from webforms.models import Submission

    days = PrivacySettings.current().retention_days
    RetentionReview.objects.all().delete()
    if not days:
        return 0
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    person = OuterRef("pk")
    # One subquery per kind rather than joins: joining them all would multiply the rows per contact.
    latest = [
        _latest(Activity.objects.filter(contact=person), "updated_at"),
        _latest(Opportunity.objects.filter(contact=person), "updated_at"),
        _latest(EmailMessage.objects.filter(contacts=person), "sent_at"),
        _latest(Note.objects.filter(contact=person), "updated_at"),
        _latest(Submission.objects.filter(contact=person), "created_at"),
    ]
    contacts = (
        Contact.objects.active()
        .annotate(last_activity=Greatest("updated_at", *(Coalesce(expr, "updated_at") for expr in latest)))
        .filter(Q(last_activity__lt=cutoff))
        .values_list("pk", "last_activity")
    )
    RetentionReview.objects.bulk_create(
        [RetentionReview(contact_id=pk, last_activity_at=last) for pk, last in contacts.iterator(chunk_size=2000)],
        batch_size=2000,
    )
    return RetentionReview.objects.count()
