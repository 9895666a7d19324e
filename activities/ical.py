"""The personal iCal feed (RFC 5545), built with the icalendar library from the calendar's entries.

Calendar applications keep their own copy of each event, keyed by its UID: the UID names the record
and this installation (``CRM_CALENDAR_UID_DOMAIN``), never the host name the feed was fetched by, and
``SEQUENCE`` / ``LAST-MODIFIED`` grow with every change so a moved event replaces the old copy.
"""

import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from .models import Activity


def uid_domain() -> str:
    """The fixed right-hand part of every event UID."""
    return settings.CRM_CALENDAR_UID_DOMAIN or urlsplit(settings.CRM_SITE_URL).hostname or "crm"


def _kind_label(kind: str) -> str:
    if kind == "close":
        return _("Expected close")
    if kind == "next_step":
        return _("Next step")
    return str(Activity.Kind(kind).label) if kind in Activity.Kind.values else kind


def _utc(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(datetime.UTC).replace(microsecond=0)


def feed_render(*, entries, base_url: str, name: str) -> bytes:
    """The feed's bytes. Texts come out in the active language: the caller activates the owner's."""
    cal = Calendar()
    cal.add("prodid", "-//Sales CRM//Calendar feed//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    stamp = _utc(timezone.now())
    domain = uid_domain()
    for entry in entries:
        event = Event()
        event.add("uid", f"{entry.uid}@{domain}")
        event.add("dtstamp", stamp)
        event.add("sequence", entry.sequence)
        if entry.modified is not None:
            event.add("last-modified", _utc(entry.modified))
        event.add("summary", entry.title)
        if entry.all_day:
            event.add("dtstart", entry.day)
            event.add("dtend", entry.day + datetime.timedelta(days=1))
            event.add("transp", "TRANSPARENT")
        else:
            event.add("dtstart", entry.start.astimezone(datetime.UTC))
            event.add("dtend", entry.end.astimezone(datetime.UTC))
        url = base_url + entry.url
        event.add("url", url)
        kind = _kind_label(entry.kind)
        lines = [kind, entry.detail, _("Open it in the CRM: %(url)s") % {"url": url}]
        event.add("description", "\n".join(line for line in lines if line))
        event.add("categories", [kind])
        cal.add_component(event)
    return cal.to_ical()
