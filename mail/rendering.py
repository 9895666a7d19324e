"""Showing an e-mail safely: HTML through an allow-list (nh3), remote images blocked until the reader
asks, quoted replies folded. What comes out is safe to mark as such; nothing else is."""

import html
import re

import nh3
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS)
_REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
_QUOTE_START = re.compile(
    r"^(>|-{2,}\s*(Original Message|Messaggio originale)|On .+ wrote:|Il .+ ha scritto:)", re.IGNORECASE
)


def html_sanitise(source: str, *, images: bool) -> tuple[str, bool]:
    """``(safe html, had remote images)``: only allow-listed tags and attributes, links that cannot
    run script, and remote images left out unless ``images``."""
    blocked = []

    def attribute_filter(tag, attribute, value):
        if tag == "img" and attribute == "src":
            if _REMOTE.match(value):
                if not images:
                    blocked.append(value)
                    return None
                return value
            return None  # cid: and data: images are not served from here
        return value

    cleaned = nh3.clean(
        source,
        tags=_ALLOWED_TAGS,
        attribute_filter=attribute_filter,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    if "<blockquote" in cleaned:
        summary = html.escape(_("Show quoted text"))
        cleaned = cleaned.replace("<blockquote", f"<details><summary>{summary}</summary><blockquote").replace(
            "</blockquote>", "</blockquote></details>"
        )
    return cleaned, bool(blocked)


def text_render(text: str) -> str:
    """Plain text as escaped HTML, the quoted part of a reply folded away."""
    lines = text.splitlines()
    cut = next((i for i, line in enumerate(lines) if _QUOTE_START.match(line.strip())), len(lines))
    head = html.escape("\n".join(lines[:cut]).rstrip())
    out = f'<div class="prewrap">{head}</div>'
    if cut < len(lines):
        quoted = html.escape("\n".join(lines[cut:]))
        summary = html.escape(_("Show quoted text"))
        out += f'<details><summary>{summary}</summary><div class="prewrap">{quoted}</div></details>'
    return out


def email_body(email, *, images: bool = False) -> tuple[str, bool]:
    """The body to show: the sanitised HTML part when there is one, else the text part."""
    if email.html_body:
        body, blocked = html_sanitise(email.html_body, images=images)
        return mark_safe(body), blocked  # noqa: S308 (nh3's allow-list output)
    return mark_safe(text_render(email.text_body)), False  # noqa: S308 (escaped above)


def snippet(email, length: int = 160) -> str:
    text = email.text_body or nh3.clean(email.html_body, tags=set())
    text = " ".join(html.unescape(text).split())
    return text[:length] + ("…" if len(text) > length else "")
