"""Cheap signs that a submission was not sent by a person: the rate limit (in the cache) and the
check that the e-mail domain accepts mail (DNS: MX, else A/AAAA). Each degrades to "fine" when its
service is away: a cache or DNS outage must not turn away real customers."""

import logging

import dns.exception
import dns.name
import dns.nameserver
import dns.resolver
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

# Per visitor address and per form, in a sliding-ish fixed window.
RATE_WINDOW = 600  # seconds
RATE_PER_IP = 5
RATE_PER_FORM = 200


def _count(key: str) -> int:
    try:
        cache.add(key, 0, RATE_WINDOW)
        value = cache.incr(key)
    except Exception:  # the cache is down or the key expired between add and incr: let it through
        logger.warning("Web form rate limit not counted (cache unavailable).", exc_info=True)
        return 0
    return int(value or 0)


def over_rate_limit(*, form_id: int, ip: str | None, per_ip: int = RATE_PER_IP, per_form: int = RATE_PER_FORM) -> bool:
    """Count this submission; True when the visitor or the form sent more than allowed lately."""
    over = False
    if ip:
        over = _count(f"webforms:rate:ip:{form_id}:{ip}") > per_ip
    return _count(f"webforms:rate:form:{form_id}") > per_form or over


# The answers of the mail-domain check.
ACCEPTS, NO_MAIL, UNKNOWN = "accepts", "no_mail", "unknown"
# Seconds the whole check may take (MX, then A and AAAA): a visitor waits for it.
DNS_LIFETIME = 3.0
# Names that never receive mail (RFC 6761, RFC 2606): no need to ask anyone.
NEVER_MAIL = ("invalid", "localhost", "test", "example")


def mail_resolver() -> dns.resolver.Resolver:
    """A resolver on ``settings.CRM_DNS_NAMESERVERS`` ("ip" or "ip:port", comma-separated) or,
    without it, the machine's (/etc/resolv.conf). Raises dns.resolver.NoResolverConfiguration
    when the machine has none."""
    servers = getattr(settings, "CRM_DNS_NAMESERVERS", [])
    if not servers:
        resolver = dns.resolver.Resolver()
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = []
        for server in servers:
            host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
            resolver.nameservers.append(dns.nameserver.Do53Nameserver(host, int(port or 53)))
    resolver.lifetime = DNS_LIFETIME
    return resolver


def mail_domain_status(email: str, resolver: dns.resolver.Resolver | None = None) -> str:
    """Whether the domain of ``email`` accepts mail, as a sending server would decide (RFC 5321
    §5.1): its MX records; without any, its address (A or AAAA) as an implicit MX. ``NO_MAIL`` when
    the name does not exist, has neither, or publishes a "null MX" (RFC 7505: ``MX 0 .``);
    ``UNKNOWN`` when DNS does not answer (time-out, unreachable or failing servers, no resolver):
    our DNS trouble holds no real customer back."""
    domain = email.rpartition("@")[2].strip().rstrip(".").lower()
    if not domain or "." not in domain:
        return NO_MAIL
    if domain.rpartition(".")[2] in NEVER_MAIL or domain == "localhost":
        return NO_MAIL
    try:
        name = dns.name.from_text(domain)
        resolver = resolver or mail_resolver()
        try:
            answer = resolver.resolve(name, "MX", search=False)
        except dns.resolver.NoAnswer:
            pass  # no MX: the address is the implicit MX
        else:
            exchanges = {record.exchange for record in answer}
            return NO_MAIL if exchanges == {dns.name.root} else ACCEPTS
        for rdtype in ("A", "AAAA"):
            try:
                resolver.resolve(name, rdtype, search=False)
            except dns.resolver.NoAnswer:
                continue
            return ACCEPTS
        return NO_MAIL
    except dns.resolver.NXDOMAIN:
        return NO_MAIL
    except (dns.name.NameTooLong, dns.name.LabelTooLong, dns.name.EmptyLabel, UnicodeError):
        return NO_MAIL
    except (dns.exception.DNSException, OSError, ValueError):
        # Timeout, no nameserver answering, SERVFAIL, no resolver configured, a socket error.
        logger.warning("E-mail domain not checked: DNS did not answer for %s.", domain, exc_info=True)
        return UNKNOWN


def mail_domain_exists(email: str, resolver: dns.resolver.Resolver | None = None) -> bool:
    """False only when the domain of ``email`` certainly accepts no mail; True when it does or
    when DNS could not tell (an unanswered check is not a sign of spam)."""
    return mail_domain_status(email, resolver) != NO_MAIL
