"""The CRM's own addresses: one per deal and one per user, from the administrator's templates
(``CRM_MAIL_DEAL_ADDRESS`` such as ``crm+d{id}@example.com``, ``CRM_MAIL_USER_ADDRESS`` such as
``crm+u{id}@example.com``), delivered to a watched mailbox. Mail sent (or BCC'd, or forwarded) there
is logged to that deal, or for a user's address to the sender's (or recipients') contacts and deal.

No models here: the services and the pages both read these, and neither may import the other."""

import re

from django.conf import settings


def _fill(template: str, record_id: int) -> str:
    return template.replace("{id}", str(record_id)) if template and "{id}" in template else ""


def _pattern(template: str):
    if not template or "{id}" not in template:
        return None
    before, _sep, after = template.lower().partition("{id}")
    return re.compile(re.escape(before) + r"(\d+)" + re.escape(after))


def deal_address(opportunity_id: int) -> str:
    """The address mail for this deal can be sent (or BCC'd) to, or "" when none is configured."""
    return _fill(settings.CRM_MAIL_DEAL_ADDRESS, opportunity_id)


def user_address(user_id: int) -> str:
    """The user's own BCC/forward address, or "" when none is configured."""
    return _fill(settings.CRM_MAIL_USER_ADDRESS, user_id)


def ids_in(addresses, template: str) -> list[int]:
    """The record ids that ``addresses`` (lower case) carry in the form of ``template``, in order."""
    pattern = _pattern(template)
    if pattern is None:
        return []
    return [int(m.group(1)) for a in sorted(addresses) if (m := pattern.fullmatch(a))]
