import tempfile
from pathlib import Path

import pytest

from .servers import dovecot_start, dovecot_stop, smtp_start


@pytest.fixture
def dovecot():
    """A fresh Dovecot with an empty maildir for each test."""
    server = dovecot_start(Path(tempfile.mkdtemp(prefix="crm-dovecot-")))
    yield server
    dovecot_stop(server)


@pytest.fixture
def smtp(settings):
    sink = smtp_start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield sink
    sink.controller.stop()


@pytest.fixture
def mailbox(dovecot, crm_admin):
    from mail.services import mailbox_save

    return mailbox_save(
        user=crm_admin,
        name="Vendite",
        host="127.0.0.1",
        port=dovecot.port,
        tls_mode="none",
        username=dovecot.user,
        password=dovecot.password,
        folders="INBOX, Sent",
    )
