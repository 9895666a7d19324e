from django import template

from ..selectors import consent_current

register = template.Library()


@register.inclusion_tag("privacy/partials/contact_panel.html")
def privacy_panel(contact, can_edit=False):
    """The contact page's privacy card: current consents, export, erase."""
    return {"contact": contact, "consents": consent_current(contact=contact), "can_edit": can_edit}
