"""IMAP over TLS against a real Dovecot with a certificate of a company's own authority, made here
with the ``cryptography`` package: "Test connection" says clearly that the certificate is not trusted
until the administrator adds that authority (``CRM_MAIL_CA_FILE``); then SSL/TLS and STARTTLS both
connect and a poll imports over the encrypted connection."""

import datetime
import ipaddress
import tempfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.urls import reverse

from contacts.tests.factories import ContactFactory
from mail.models import EmailMessage, Mailbox
from mail.services import mailbox_connection_test, mailbox_poll, mailbox_save

from .messages import raw_message
from .servers import dovecot_start, dovecot_stop

pytestmark = pytest.mark.django_db


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def certificates(directory: Path) -> tuple[Path, Path, Path]:
    """``(ca.pem, server.pem, server.key)``: an authority of our own and a server certificate it signed
    for 127.0.0.1 and localhost."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Test CRM mail CA"))
        .issuer_name(_name("Test CRM mail CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # key_cert_sign, crl_sign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    _write_key(key, paths[2])
    return paths


@pytest.fixture
def tls_dovecot():
    certs = Path(tempfile.mkdtemp(prefix="crm-certs-"))
    ca, cert, key = certificates(certs)
    server = dovecot_start(Path(tempfile.mkdtemp(prefix="crm-dovecot-tls-")), tls=(cert, key))
    server.ca_file = ca
    yield server
    dovecot_stop(server)
    for path in (ca, cert, key):
        path.unlink()
    certs.rmdir()


def _mailbox(server, admin, *, tls_mode: str) -> Mailbox:
    return mailbox_save(
        user=admin,
        name=f"Vendite {tls_mode}",
        host="127.0.0.1",
        port=server.tls_port if tls_mode == "ssl" else server.port,
        tls_mode=tls_mode,
        username=server.user,
        password=server.password,
        folders="INBOX",
    )


def test_an_untrusted_certificate_is_reported_as_such(client, settings, tls_dovecot, crm_admin):
    settings.CRM_MAIL_CA_FILE = ""
    for tls_mode in ("ssl", "starttls"):
        mailbox = _mailbox(tls_dovecot, crm_admin, tls_mode=tls_mode)
        ok, step, message = mailbox_connection_test(mailbox=mailbox)
        assert (ok, step) == (False, "tls"), message
        assert "certificate is not trusted" in message and "CRM_MAIL_CA_FILE" in message
    # What the administrator reads after pressing "Test connection".
    client.force_login(crm_admin)
    page = client.post(reverse("mail:mailbox_test", args=[mailbox.pk]), follow=True).content.decode()
    assert "TLS failed: The server&#x27;s certificate is not trusted (unable to get local issuer certificate)" in page
    # A poll does not import over an unchecked connection: the mailbox shows why and waits.
    result = mailbox_poll(mailbox=mailbox)
    mailbox.refresh_from_db()
    assert result.imported == 0 and "certificate is not trusted" in mailbox.last_error and mailbox.failures == 1


def test_with_the_authority_configured_tls_connects_and_polls(settings, tls_dovecot, crm_admin, rep):
    settings.CRM_MAIL_CA_FILE = str(tls_dovecot.ca_file)
    ContactFactory(email="mario@example.com", owner=rep, organization__owner=rep)
    tls_dovecot.append(raw_message(subject="Cifrato"))
    for tls_mode in ("ssl", "starttls"):
        mailbox = _mailbox(tls_dovecot, crm_admin, tls_mode=tls_mode)
        assert mailbox_connection_test(mailbox=mailbox)[:2] == (True, "ok")
    assert mailbox_poll(mailbox=Mailbox.objects.get(tls_mode="ssl")).imported == 1
    assert EmailMessage.objects.get().subject == "Cifrato"


def test_an_unreadable_authorities_file_is_named(settings, tls_dovecot, crm_admin):
    settings.CRM_MAIL_CA_FILE = "/nonexistent/ca.pem"
    ok, step, message = mailbox_connection_test(mailbox=_mailbox(tls_dovecot, crm_admin, tls_mode="ssl"))
    assert (ok, step) == (False, "tls") and "/nonexistent/ca.pem" in message
