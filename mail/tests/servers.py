"""A real Dovecot IMAP server and a real aiosmtpd SMTP server for the e-mail tests.

Dovecot runs as a plain child process with a generated configuration: its own base_dir, a port
from ``CRM_TEST_PORT_RANGE``, a passwd-file user and a maildir in a temporary directory. No system
service, no port 143."""

import grp
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from imap_tools import MailBoxUnencrypted

from tests.servers import required_program, service_port, stop, wait_for_port

USER = "vendite@example.com"
PASSWORD = "segreto-di-prova"


@dataclass
class Dovecot:
    port: int
    root: Path
    process: subprocess.Popen
    user: str = USER
    password: str = PASSWORD
    tls_port: int = 0  # the IMAPS port when started with a certificate

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver a message the way a mail client files one: IMAP APPEND."""
        with MailBoxUnencrypted("127.0.0.1", self.port).login(self.user, self.password, initial_folder=None) as box:
            box.append(raw, folder)


def _identity() -> tuple[str, str, int, int, str]:
    """(internal user, login user, mail uid, mail gid, internal group). Dovecot refuses to run its
    login and mail processes as root; as root we use the package's own users."""
    if os.geteuid() != 0:
        user = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        return user, user, os.geteuid(), os.getegid(), group
    dovecot = pwd.getpwnam("dovecot")
    dovenull = pwd.getpwnam("dovenull")
    return "dovecot", dovenull.pw_name, dovecot.pw_uid, dovecot.pw_gid, grp.getgrgid(dovecot.pw_gid).gr_name


def dovecot_start(root: Path, *, tls: tuple[Path, Path] | None = None) -> Dovecot:
    """Dovecot on a port of our range; with ``tls`` (certificate chain and key, PEM files) it also
    answers IMAPS on a second port and STARTTLS on the first."""
    binary = required_program("dovecot", "apt-get install dovecot-imapd", "/usr/sbin/dovecot")
    internal, login, uid, gid, group = _identity()
    port = service_port()
    tls_port = service_port() if tls else 0
    ssl_config = f"ssl = yes\nssl_cert = <{tls[0]}\nssl_key = <{tls[1]}" if tls else "ssl = no"
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.chown(root / "mail", uid, gid)
    os.chmod(root, 0o755)  # noqa: S103 (Dovecot's unprivileged processes read the config dir)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    config = root / "dovecot.conf"
    config.write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl_config}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = 1
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    auto = create
    special_use = \\Sent
  }}
}}
"""
    )
    process = subprocess.Popen([binary, "-F", "-c", str(config)])  # noqa: S603 (our own arguments)
    try:
        wait_for_port(port, process, "dovecot", timeout=30)
        if tls_port:
            wait_for_port(tls_port, process, "dovecot (IMAPS)", timeout=30)
    except RuntimeError:
        stop(process)
        raise
    return Dovecot(port=port, root=root, process=process, tls_port=tls_port)


def dovecot_stop(server: Dovecot) -> None:
    stop(server.process)
    shutil.rmtree(server.root, ignore_errors=True)


@dataclass
class SmtpSink:
    port: int
    controller: object
    messages: list = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 10) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


def smtp_start() -> SmtpSink:
    """aiosmtpd on a port of our range, keeping every message it receives (envelope and bytes)."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink(port=service_port(), controller=None)

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            sink.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=sink.port)
    controller.start()
    sink.controller = controller
    return sink
