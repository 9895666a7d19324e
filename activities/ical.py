"""The personal iCal feed (RFC 5545), built with the icalendar library from the calendar's entries."""

import datetime

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event


def feed_render(*, entries, base_url: str, name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Sales CRM//Calendar feed//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    stamp = timezone.now().astimezone(datetime.UTC).replace(microsecond=0)
    host = base_url.split("://", 1)[-1].split("/", 1)[0] or "crm"
    for entry in entries:
        event = Event()
        event.add("uid", f"{entry.uid}@{host}")
        event.add("dtstamp", stamp)
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
        event.add("description", f"{entry.detail}\n{url}".strip())
        event.add("categories", [entry.kind])
        cal.add_component(event)
    return cal.to_ical()
