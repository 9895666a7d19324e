"""How a note's text is shown: escaped, then light formatting (**bold**, *italic*, `code`, links,
line breaks, @mentions), then sanitised with nh3 so no markup a user typed can run."""

import re

import nh3
from django.utils.html import escape

MENTION = re.compile(r"(?<![\w@.])@([\w.+-]{1,150})")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<!\*)\*(?!\s)(.+?)(?<!\s)\*(?!\*)")
_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"(https?://[^\s<]+)")
ALLOWED_TAGS = {"strong", "em", "code", "a", "br", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "span": {"class"}}


def mentioned_usernames(body: str) -> set[str]:
    """The ``@username`` words of ``body`` (a trailing full stop is punctuation, not the name)."""
    return {name.rstrip(".") for name in MENTION.findall(body or "")}


def note_html(body: str, *, usernames: frozenset[str] | set[str] = frozenset()) -> str:
    """``body`` as safe HTML. ``usernames``: the mentions that name a user (highlighted)."""
    text = escape(body or "")
    text = _CODE.sub(r"<code>\1</code>", text)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    text = _LINK.sub(r'<a href="\1">\1</a>', text)

    def mention(match):
        name = match.group(1).rstrip(".")
        if name in usernames:
            return f'<span class="mention">@{name}</span>' + match.group(1)[len(name) :]
        return match.group(0)

    text = MENTION.sub(mention, text)
    text = text.replace("\r\n", "\n").replace("\n", "<br>")
    return nh3.clean(text, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, link_rel="noopener noreferrer nofollow")
