"""Talking to an IMAP server (imap-tools over imaplib): connecting, the "test connection" check, and
reading new messages of a folder by UID. No Django models here: the services decide what to keep."""

import contextlib
import re
import socket
import ssl
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError, MailboxLoginError


class MailboxConnectError(Exception):
    """Connecting failed at ``step`` (dns, connect, tls, login, folder) with a message for people."""

    def __init__(self, step: str, message: str):
        self.step = step
        self.message = message
        super().__init__(f"{step}: {message}")


@dataclass
class ConnectionSettings:
    host: str
    port: int
    tls_mode: str
    username: str
    password: str


def tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's authorities, plus those of ``CRM_MAIL_CA_FILE`` (a
    PEM file, for a mail server with a certificate of the company's own authority). Never unchecked."""
    context = ssl.create_default_context()
    if settings.CRM_MAIL_CA_FILE:
        try:
            context.load_verify_locations(cafile=settings.CRM_MAIL_CA_FILE)
        except (OSError, ssl.SSLError) as exc:
            raise MailboxConnectError(
                "tls",
                _("The certificate authorities file %(path)s cannot be read: %(error)s")
                % {"path": settings.CRM_MAIL_CA_FILE, "error": exc},
            ) from exc
    return context


def connect(cfg: ConnectionSettings):
    """A logged-in imap-tools mailbox, or :class:`MailboxConnectError` saying what failed."""
    timeout = settings.CRM_MAIL_TIMEOUT
    try:
        socket.getaddrinfo(cfg.host, cfg.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise MailboxConnectError(
            "dns", _("The host name “%(host)s” was not found (DNS): %(error)s") % {"host": cfg.host, "error": exc}
        ) from exc
    try:
        if cfg.tls_mode == "ssl":
            box = MailBox(cfg.host, cfg.port, timeout=timeout, ssl_context=tls_context())
        elif cfg.tls_mode == "starttls":
            box = MailBoxStartTls(cfg.host, cfg.port, timeout=timeout, ssl_context=tls_context())
        else:
            box = MailBoxUnencrypted(cfg.host, cfg.port, timeout=timeout)
    except ssl.SSLCertVerificationError as exc:
        raise MailboxConnectError(
            "tls",
            _(
                "The server's certificate is not trusted (%(reason)s). If your mail server uses a certificate "
                "of its own authority, an administrator adds that authority (CRM_MAIL_CA_FILE)."
            )
            % {"reason": exc.verify_message or exc.reason or exc},
        ) from exc
    except ssl.SSLError as exc:
        raise MailboxConnectError("tls", _("The secure (TLS) connection failed: %(error)s") % {"error": exc}) from exc
    except TimeoutError as exc:
        raise MailboxConnectError("connect", _("The server did not answer in time.")) from exc
    except (OSError, ImapToolsError) as exc:
        if "ssl" in type(exc).__name__.lower() or "tls" in str(exc).lower():
            raise MailboxConnectError(
                "tls", _("The secure (TLS) connection failed: %(error)s") % {"error": exc}
            ) from exc
        raise MailboxConnectError(
            "connect",
            _("Could not connect to %(host)s:%(port)s: %(error)s") % {"host": cfg.host, "port": cfg.port, "error": exc},
        ) from exc
    try:
        box.login(cfg.username, cfg.password, initial_folder=None)
    except MailboxLoginError as exc:
        _close(box)
        raise MailboxConnectError("login", _("The server refused the user name or password.")) from exc
    except (OSError, ImapToolsError) as exc:
        _close(box)
        raise MailboxConnectError("login", _("Logging in failed: %(error)s") % {"error": exc}) from exc
    return box


def _close(box) -> None:
    with contextlib.suppress(Exception):
        box.client.shutdown()


def disconnect(box) -> None:
    try:
        box.logout()
    except Exception:
        _close(box)


def connection_test(cfg: ConnectionSettings, folders: list[str]) -> None:
    """Raise :class:`MailboxConnectError` at the first step that fails; return when all folders open."""
    box = connect(cfg)
    try:
        for name in folders:
            if not box.folder.exists(name):
                raise MailboxConnectError(
                    "folder", _("The folder “%(folder)s” does not exist on the server.") % {"folder": name}
                )
    finally:
        disconnect(box)


_UID = re.compile(rb"UID (\d+)")


def folder_open(box, name: str) -> int:
    """Select ``name`` read-only; its UIDVALIDITY."""
    status = box.folder.status(name, ["UIDVALIDITY"])
    box.folder.set(name, readonly=True)
    return int(status["UIDVALIDITY"])


def new_uids(box, last_uid: int) -> list[int]:
    """UIDs above ``last_uid`` ("n:*" always answers the last message, even below n: filtered)."""
    typ, data = box.client.uid("SEARCH", None, f"UID {last_uid + 1}:*")
    if typ != "OK":
        raise ImapToolsError(f"UID SEARCH failed: {data!r}")
    uids = [int(x) for x in b" ".join(d for d in data if d).split()]
    return sorted(u for u in uids if u > last_uid)


def messages_fetch(box, uids: list[int]):
    """``(uid, raw bytes)`` of each UID, without marking anything as seen."""
    if not uids:
        return
    typ, data = box.client.uid("FETCH", ",".join(str(u) for u in uids), "(UID BODY.PEEK[])")
    if typ != "OK":
        raise ImapToolsError(f"UID FETCH failed: {data!r}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            match = _UID.search(item[0])
            if match:
                yield int(match.group(1)), item[1]
