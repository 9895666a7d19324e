"""The "e-mail domain accepts mail" check against real DNS traffic on this machine, no internet:
a tiny UDP DNS server started by the test answers from a small zone (MX, A-only, null MX, no such
name, SERVFAIL); a socket that never answers is the time-out; a closed port is an unreachable
server. The decision is taken on dnspython's own exceptions (NXDOMAIN, NoAnswer, LifetimeTimeout,
NoNameservers), as in production."""

import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset
import pytest
from django.test import override_settings

from opportunities.models import Opportunity
from webforms import spam
from webforms.models import Submission

from .test_public import GOOD, SITE, post

ZONE = {
    # name: {type: [records]}; a name absent from the zone does not exist (NXDOMAIN)
    "mx.example.org.": {"MX": ["10 mail.mx.example.org."]},
    "a-only.example.org.": {"A": ["192.0.2.10"]},
    "v6-only.example.org.": {"AAAA": ["2001:db8::25"]},
    "nullmx.example.org.": {"MX": ["0 ."], "A": ["192.0.2.11"]},
    "txt-only.example.org.": {"TXT": ['"v=spf1 -all"']},
    "broken.example.org.": "SERVFAIL",
}


class TinyDNS:
    """A DNS server on 127.0.0.1 answering from ``ZONE`` (authoritative, UDP only)."""

    def __init__(self, zone, silent=False):
        self.zone, self.silent = zone, silent
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.asked = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def _serve(self):
        while not self._stop.is_set():
            try:
                wire, client = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name, rdtype = question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype)
            self.asked.append((name, rdtype))
            if self.silent:
                continue
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            records = self.zone.get(name)
            if records is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif records == "SERVFAIL":
                response.set_rcode(dns.rcode.SERVFAIL)
            elif rdtype in records:
                response.answer.append(dns.rrset.from_text_list(name, 300, "IN", rdtype, records[rdtype]))
            self.sock.sendto(response.to_wire(), client)


def resolver_at(port, lifetime=1.0):
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = port
    resolver.lifetime = lifetime
    return resolver


@pytest.fixture
def tiny_dns():
    with TinyDNS(ZONE) as server:
        yield server


@pytest.mark.parametrize(
    "email, expected",
    [
        ("anna@mx.example.org", spam.ACCEPTS),  # MX records
        ("anna@a-only.example.org", spam.ACCEPTS),  # no MX: the A record is the implicit MX (RFC 5321)
        ("anna@v6-only.example.org", spam.ACCEPTS),  # or the AAAA record
        ("anna@nullmx.example.org", spam.NO_MAIL),  # "MX 0 ." says it takes no mail (RFC 7505)
        ("anna@txt-only.example.org", spam.NO_MAIL),  # the name exists but has neither MX nor address
        ("anna@missing.example.org", spam.NO_MAIL),  # NXDOMAIN
        ("anna@broken.example.org", spam.UNKNOWN),  # SERVFAIL: no server could answer
    ],
)
def test_decision_on_the_resolvers_answers(tiny_dns, email, expected):
    assert spam.mail_domain_status(email, resolver_at(tiny_dns.port)) == expected


def test_mx_is_asked_first_and_the_address_only_without_it(tiny_dns):
    spam.mail_domain_status("a@mx.example.org", resolver_at(tiny_dns.port))
    spam.mail_domain_status("a@a-only.example.org", resolver_at(tiny_dns.port))
    assert tiny_dns.asked == [("mx.example.org.", "MX"), ("a-only.example.org.", "MX"), ("a-only.example.org.", "A")]


def test_a_server_that_never_answers_is_unknown_not_spam():
    with TinyDNS(ZONE, silent=True) as server:
        resolver = resolver_at(server.port, lifetime=0.5)
        with pytest.raises(dns.resolver.LifetimeTimeout):  # what the check has to survive
            resolver.resolve("mx.example.org.", "MX")
        assert spam.mail_domain_status("anna@mx.example.org", resolver) == spam.UNKNOWN
        assert spam.mail_domain_exists("anna@mx.example.org", resolver) is True


def test_an_unreachable_server_is_unknown_not_spam():
    closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nobody listens there any more
    assert spam.mail_domain_status("anna@mx.example.org", resolver_at(port, lifetime=0.5)) == spam.UNKNOWN


def test_names_that_never_take_mail_are_not_asked(tiny_dns):
    for email in ("a@site.invalid", "a@localhost", "a@nodot", "a@", "a@" + "x" * 64 + ".org"):
        assert spam.mail_domain_status(email, resolver_at(tiny_dns.port)) == spam.NO_MAIL
    assert tiny_dns.asked == []


# --- Through the hosted form --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_form_holds_a_domain_without_mail_and_lets_an_unanswered_one_through(client, webform, tiny_dns):
    webform.check_mail_domain, webform.allowed_origins = True, SITE
    webform.save()
    with override_settings(CRM_DNS_NAMESERVERS=[f"127.0.0.1:{tiny_dns.port}"]):
        post(client, webform, {**GOOD, "email": "a@missing.example.org", "consent": "on"})
        post(client, webform, {**GOOD, "email": "b@mx.example.org", "consent": "on"})
    with TinyDNS(ZONE, silent=True) as silent, override_settings(CRM_DNS_NAMESERVERS=[f"127.0.0.1:{silent.port}"]):
        response = post(client, webform, {**GOOD, "email": "c@mx.example.org", "consent": "on"})
    assert response.status_code < 500
    by_email = dict(Submission.objects.values_list("email", "suspicion"))
    assert by_email == {"a@missing.example.org": "mail_domain", "b@mx.example.org": "", "c@mx.example.org": ""}
    assert Opportunity.objects.count() == 2  # the held one is not on the board
