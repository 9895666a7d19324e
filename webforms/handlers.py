"""Side effects of the web forms, delivered from the outbox after the submission committed."""

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from core.outbox import subscribe

from .models import Submission


@subscribe("webform.lead_assigned")
def lead_assigned_notify(event) -> None:
    """Tell the owner a deal from a web form is theirs.

    NOTIFICATIONS: this is the one call site. The e-mail goes out here today; the in-CRM
    notification (built by the notifications work) is to be added right here, next to the e-mail.
    """
    submission = (
        Submission.objects.select_related("assigned_to", "opportunity", "form")
        .filter(pk=event.payload["submission"])
        .first()
    )
    if submission is None or submission.assigned_to is None or submission.opportunity is None:
        return
    owner = submission.assigned_to
    # (in-CRM notification for ``owner`` goes here)
    if not owner.email:
        return
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        url = settings.CRM_SITE_URL + reverse("opportunities:detail", args=[submission.opportunity_id])
        lines = [
            _("A new lead arrived from the web form “%(form)s” and is yours: %(deal)s.")
            % {"form": submission.form.name, "deal": submission.opportunity.name},
            "",
            _("Open it: %(url)s") % {"url": url},
        ]
        send_mail(
            subject=_("New lead: %(deal)s") % {"deal": submission.opportunity.name},
            message="\n".join(lines),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[owner.email],
        )
