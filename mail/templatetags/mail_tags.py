"""The e-mail card of the deal, contact and organization pages: ``{% record_emails opp=opp %}``.

A tag, so the pages of other apps include it with one line and no change to their views."""

from django import template

from mail.addresses import deal_address
from mail.rendering import snippet
from mail.selectors import email_recent

register = template.Library()


@register.inclusion_tag("mail/_record_emails.html", takes_context=True)
def record_emails(context, opp=None, contact=None, org=None):
    user = context["request"].user
    record = (
        {"opportunity": opp}
        if opp is not None
        else {"contact": contact}
        if contact is not None
        else {"organization": org}
    )
    emails, total = email_recent(user=user, **record)
    kind, obj = next(
        (k, v) for k, v in (("opportunity", opp), ("contact", contact), ("organization", org)) if v is not None
    )
    return {
        "emails": emails,
        "total": total,
        "kind": kind,
        "record": obj,
        "request": context["request"],
        "bcc_address": deal_address(opp.pk) if opp is not None else "",
    }


@register.filter
def email_snippet(email):
    return snippet(email)
