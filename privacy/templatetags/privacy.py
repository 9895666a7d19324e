from django import template

from ..models import LegalHold
from ..selectors import consent_current

register = template.Library()


@register.inclusion_tag("privacy/partials/contact_panel.html", takes_context=True)
def privacy_panel(context, contact, can_edit=False):
    """The contact page's privacy card: current consents, legal hold, export, erase."""
    user = context["request"].user
    return {
        "contact": contact,
        "consents": consent_current(contact=contact),
        "can_edit": can_edit,
        "held": LegalHold.objects.filter(contact=contact).first(),
        # may_hold without its query: the page already knows whether the user may change the contact
        "can_hold": bool(can_edit and (user.is_crm_admin or user.is_manager)),
    }
