"""A real SMTP server (aiosmtpd) for the e-mails of the report subscriptions."""

import email

import pytest
from aiosmtpd.controller import Controller

from tests.servers import service_port


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    port = service_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


def email_parts(message):
    html = text = None
    attachments = {}
    for part in message.walk():
        if part.get_filename():
            attachments[part.get_filename()] = part.get_payload(decode=True)
        elif part.get_content_type() == "text/html":
            html = part.get_payload(decode=True).decode()
        elif part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode()
    return html, text, attachments
