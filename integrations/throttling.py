from rest_framework import throttling

from core.breaker import Breaker
from core.cache import CACHE_ERRORS

from .models import ApiToken

# Only in play if the cache backend is not core.cache's (which already answers a dead Redis with a
# miss, so the throttle counts nothing and lets the request through).
_cache_breaker = Breaker(
    "API throttle cache", retry_after=lambda: 5, fallback="API requests are not rate-limited meanwhile"
)


class CacheOutageAllows:
    """A throttle that cannot reach its cache lets the request through: a rate limit is a soft
    protection, not a reason to answer 500 to every API call."""

    def allow_request(self, request, view):
        if not _cache_breaker.allows():
            return True
        try:
            allowed = super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            _cache_breaker.failed(exc)
            return True
        _cache_breaker.succeeded()
        return allowed


class TokenOrUserRateThrottle(CacheOutageAllows, throttling.UserRateThrottle):
    """Each token has its own budget; a browser session shares the user's."""

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": f"token-{request.auth.pk}"}
        return super().get_cache_key(request, view)


class AnonRateThrottle(CacheOutageAllows, throttling.AnonRateThrottle):
    pass


__all__ = ["AnonRateThrottle", "TokenOrUserRateThrottle"]
