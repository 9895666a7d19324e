import math
import time

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


class FixedWindowCounting:
    """Counts requests in fixed windows of the rate's period with one atomic ``incr`` per request.

    DRF's own throttles keep every request's timestamp of the last period in one cache entry and
    rewrite the whole list on each request: at the default 2,000/hour a busy token reads and writes
    a 2,000-element list per call. A counter per window costs the same at any rate; what it gives
    up is the sliding edge (a client may spend one window's budget at its end and the next one's at
    the start). ``Retry-After`` is the time to the window's end.
    """

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        key = f"{ident}:{window}"
        # The entry outlives its window by a little so that a late incr never recreates it.
        self.cache.add(key, 0, self.duration + 1)
        try:
            count = self.cache.incr(key)
        except ValueError:  # evicted between add and incr: count this request as the first
            self.cache.add(key, 1, self.duration + 1)
            count = 1
        return count <= self.num_requests

    def wait(self):
        return max(1, math.ceil(self.window_ends - self.now))

    def timer(self):
        return time.time()


class TokenOrUserRateThrottle(CacheOutageAllows, FixedWindowCounting, throttling.UserRateThrottle):
    """Each token has its own budget; a browser session shares the user's."""

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": f"token-{request.auth.pk}"}
        return super().get_cache_key(request, view)


class AnonRateThrottle(CacheOutageAllows, FixedWindowCounting, throttling.AnonRateThrottle):
    pass


__all__ = ["AnonRateThrottle", "TokenOrUserRateThrottle"]
