"""Side effects of the web forms, delivered from the outbox after the submission committed."""

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from core.outbox import subscribe
from notifications.models import Channel, Kind
from notifications.services import notification_channel, notify

from .models import Submission


@subscribe("webform.lead_assigned")
def lead_assigned_notify(event) -> None:
    """Tell the owner a deal from a web form is theirs.

    The owner hears of it in the CRM (the bell, ``notifications.notify``) and by e-mail, as the
    issue asks. A user who chose e-mail for web-form leads gets it from the notification itself,
    so never twice.
    """
    submission = (
        Submission.objects.select_related("assigned_to", "opportunity", "form")
        .filter(pk=event.payload["submission"])
        .first()
    )
    if submission is None or submission.assigned_to is None or submission.opportunity is None:
        return
    owner = submission.assigned_to
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        text = _("New lead from the web form “%(form)s”: %(deal)s") % {
            "form": submission.form.name,
            "deal": submission.opportunity.name,
        }
    notify(owner, Kind.WEB_LEAD, text=text, record=submission.opportunity, key=f"web_lead:{submission.pk}")
    if not owner.email or notification_channel(user=owner, kind=Kind.WEB_LEAD) != Channel.APP:
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
