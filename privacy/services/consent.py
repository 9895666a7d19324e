import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ValidationError
from core.outbox import event_emit

from ..models import Consent


@transaction.atomic
def consent_record(
    *,
    contact,
    purpose: str,
    given: bool,
    method: str = Consent.Method.MANUAL,
    text: str = "",
    source: str = "",
    user=None,
    recorded_at: datetime.datetime | None = None,
) -> Consent:
    """Record that ``contact`` gave (``given=True``) or withdrew their consent for ``purpose``.

    The web-form feature calls it with ``method="web_form"``, ``text`` = the exact wording the
    visitor ticked and ``source`` = the form's name; ``user`` is None there. Consents are never
    edited: each call appends an event, the latest per purpose is the contact's current state.
    The caller checks that ``user`` may change the contact (the web form has no user)."""
    purpose = " ".join((purpose or "").split())
    if not purpose:
        raise ValidationError({"purpose": _("Say what the consent is for (e.g. marketing e-mail).")})
    if method not in Consent.Method.values:
        raise ValidationError({"method": _("Choose how the consent was collected.")})
    consent = Consent.objects.create(
        contact=contact,
        purpose=purpose[:100],
        given=bool(given),
        method=method,
        text=text or "",
        source=(source or "")[:200],
        recorded_by=user if user is not None and user.is_authenticated else None,
        recorded_at=recorded_at or timezone.now(),
    )
    event_emit(
        "contact.consent_recorded",
        {"contact": {"id": contact.pk}, "purpose": consent.purpose, "given": consent.given, "method": method},
    )
    return consent
