"""Turning raw RFC 5322 bytes into what the CRM keeps, with Python's ``email`` package (modern policy).

Real mail is messy: encoded words (RFC 2047), Italian mail in ISO-8859-1 or Windows-1252 declared
wrongly or not at all, broken MIME, no Message-ID. Everything here degrades instead of raising where it
can; what cannot be read at all raises :class:`UnreadableMessage` with a reason for the people."""

import contextlib
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from django.utils import timezone


class UnreadableMessage(Exception):
    pass


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    payload: bytes


@dataclass
class ParsedMessage:
    message_id: str
    subject: str
    from_name: str
    from_address: str
    to: list[str]
    cc: list[str]
    sent_at: datetime
    in_reply_to: str
    references: list[str]
    text_body: str
    html_body: str
    attachments: list[ParsedAttachment] = field(default_factory=list)
    # Where the mail server delivered it (Delivered-To, X-Original-To, Envelope-To): the only trace
    # of a BCC, whose header the sender's client removes.
    delivered_to: list[str] = field(default_factory=list)

    @property
    def addresses(self) -> set[str]:
        return {a for a in [self.from_address, *self.to, *self.cc] if a}

    @property
    def routing_addresses(self) -> set[str]:
        """Every address it was sent or delivered to, and its sender's: where the CRM's own addresses are looked for."""
        return self.addresses | set(self.delivered_to)


_MSGID = re.compile(r"<[^<>\s]+>")


def _header(msg, name: str) -> str:
    """A header's decoded text; a malformed one falls back to the raw decode, never raises."""
    try:
        value = msg.get(name)
    except Exception:  # the modern policy's parser raises on some broken headers
        value = None
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                value = raw
                break
    if value is None:
        return ""
    text = str(value)
    if "=?" in text:  # encoded words the policy left alone (inside broken syntax)
        with contextlib.suppress(Exception):
            text = str(make_header(decode_header(text)))
    return " ".join(text.split())


def _addresses(msg, name: str) -> list[tuple[str, str]]:
    raw = _header(msg, name)
    if not raw:
        return []
    return [(n.strip(), a.strip().lower()) for n, a in getaddresses([raw]) if "@" in a]


DELIVERY_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")


def _delivered_to(msg) -> list[str]:
    """The envelope recipients the mail servers on the way wrote down, every occurrence of each header."""
    found = []
    for name in DELIVERY_HEADERS:
        try:
            values = [str(v) for v in msg.get_all(name) or ()]
        except Exception:  # a malformed header: the others still count
            values = [str(raw) for key, raw in msg.raw_items() if key.lower() == name.lower()]
        found += [a.strip().lower() for _n, a in getaddresses(values) if "@" in a]
    return list(dict.fromkeys(found))


def _decode_bytes(payload: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8", "cp1252", "latin-1"):
        if not candidate:
            continue
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1", "replace")


def _text_of(part) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if payload is None:
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = part.get_content_charset()
    if charset in ("iso-8859-1", "latin-1", "us-ascii", "ascii"):
        # Declared ISO-8859-1 is Windows-1252 in practice (curly quotes, euro sign): WHATWG does the same.
        charset = "cp1252"
    return _decode_bytes(payload, charset)


def _stable_message_id(raw: bytes) -> str:
    return f"<missing-{hashlib.sha256(raw).hexdigest()[:40]}@crm.invalid>"


def message_parse(raw: bytes, *, max_bytes: int | None = None) -> ParsedMessage:
    """Parse one message. Attachments are kept in memory (their size decides where they go later)."""
    if not raw or not raw.strip():
        raise UnreadableMessage("Empty message.")
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # pragma: no cover - the parser is lenient
        raise UnreadableMessage(f"Not an e-mail message: {exc}") from exc
    if not msg.keys():
        raise UnreadableMessage("No headers: not an e-mail message.")

    ids = _MSGID.findall(_header(msg, "Message-ID"))
    message_id = ids[0][:998] if ids else _stable_message_id(raw)
    senders = _addresses(msg, "From")
    from_name, from_address = senders[0] if senders else ("", "")
    date_text = _header(msg, "Date")
    sent_at = None
    if date_text:
        try:
            sent_at = parsedate_to_datetime(date_text)
        except (TypeError, ValueError, IndexError):
            sent_at = None
    if sent_at is None:
        sent_at = timezone.now()
    elif sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=UTC)

    text_body, html_body, attachments = "", "", []
    for part in msg.walk():
        if part.is_multipart():
            continue
        try:
            disposition = (part.get_content_disposition() or "").lower()
        except Exception:
            disposition = ""
        try:
            filename = part.get_filename()
        except Exception:
            filename = None
        content_type = part.get_content_type()
        if disposition == "attachment" or filename:
            try:
                payload = part.get_payload(decode=True) or b""
            except Exception:
                payload = b""
            name = " ".join(str(filename or "attachment").split())
            if "=?" in name:
                with contextlib.suppress(Exception):
                    name = str(make_header(decode_header(name)))
            name = name.replace("\\", "/").rsplit("/", 1)[-1][:255] or "attachment"
            attachments.append(ParsedAttachment(filename=name, content_type=content_type, payload=payload))
        elif content_type == "text/plain" and not text_body:
            text_body = _text_of(part)
        elif content_type == "text/html" and not html_body:
            html_body = _text_of(part)

    references = _MSGID.findall(_header(msg, "References"))
    in_reply = _MSGID.findall(_header(msg, "In-Reply-To"))
    return ParsedMessage(
        message_id=message_id,
        subject=_header(msg, "Subject")[:998],
        from_name=from_name[:300],
        from_address=from_address[:320],
        to=[a for _n, a in _addresses(msg, "To")],
        cc=[a for _n, a in _addresses(msg, "Cc")],
        sent_at=sent_at,
        in_reply_to=in_reply[0][:998] if in_reply else "",
        references=references,
        text_body=text_body.replace("\x00", ""),
        html_body=html_body.replace("\x00", ""),
        attachments=attachments,
        delivered_to=_delivered_to(msg),
    )
