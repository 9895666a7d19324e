"""Raw test messages, built with the email package the way mail clients build them."""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def raw_message(
    *,
    sender="Mario Rossi <mario@example.com>",
    to="vendite@example.com",
    subject="Offerta",
    body="Buongiorno,\nvi scrivo per l'offerta.",
    html=None,
    message_id=None,
    in_reply_to=None,
    attachments=(),
    cc=None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = message_id or make_msgid(domain="example.com")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    for name, content, maintype, subtype in attachments:
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def latin1_message(sender="mario@example.com") -> bytes:
    """Italian mail as old clients send it: an RFC 2047 subject, an ISO-8859-1 body (really cp1252)."""
    return (
        f"From: =?iso-8859-1?q?Niccol=F2_Bianchi?= <{sender}>\r\n"
        "To: vendite@example.com\r\n"
        "Subject: =?ISO-8859-1?Q?Perch=E9_il_preventivo_=E8_cambiato=3F?=\r\n"
        "Date: Tue, 1 Dec 2026 10:00:00 +0100\r\n"
        "Message-ID: <latin1-1@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
    ).encode() + "Città: Forlì, prezzo 100 \u20ac “finale”.\r\n".encode("cp1252")


def no_message_id(sender="mario@example.com") -> bytes:
    return (
        f"From: {sender}\r\nTo: vendite@example.com\r\nSubject: senza id\r\n"
        'Content-Type: multipart/mixed; boundary="broken"\r\n\r\n--broken\r\nContent-Type: text/plain\r\n\r\ncorpo'
    ).encode()
