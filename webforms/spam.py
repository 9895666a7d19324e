"""Cheap signs that a submission was not sent by a person: the rate limit (in the cache) and the
check that the e-mail domain exists. Each degrades to "fine" when its service is away: a cache or
DNS outage must not turn away real customers."""

import logging
import socket

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


def mail_domain_exists(email: str) -> bool:
    """Whether the domain of ``email`` resolves. A name that does not exist is False; a resolver
    that does not answer is True (no real customer is held back by our DNS)."""
    domain = email.rpartition("@")[2].strip().rstrip(".")
    if not domain:
        return False
    try:
        socket.getaddrinfo(domain, 25, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        return exc.errno not in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5))
    except (OSError, UnicodeError):
        return True
    return True
