import datetime

from django.db import transaction
from django.db.models import Max, Q
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


@transaction.atomic
def retention_review_refresh(*, now: datetime.datetime | None = None) -> int:
    """List (never delete) the active contacts with no activity since the retention period: no
    change to the contact, no activity, no deal updated. Returns how many are listed."""
    from contacts.models import Contact

    days = PrivacySettings.current().retention_days
    RetentionReview.objects.all().delete()
    if not days:
        return 0
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    contacts = (
        Contact.objects.active()
        .annotate(
            last_activity=Greatest(
                "updated_at",
                Coalesce(Max("activities__updated_at"), "updated_at"),
                Coalesce(Max("opportunities__updated_at"), "updated_at"),
            )
        )
        .filter(Q(last_activity__lt=cutoff))
        .values_list("pk", "last_activity")
    )
    RetentionReview.objects.bulk_create(
        [RetentionReview(contact_id=pk, last_activity_at=last) for pk, last in contacts.iterator(chunk_size=2000)],
        batch_size=2000,
    )
    return RetentionReview.objects.count()
