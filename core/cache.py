"""The Redis cache, made optional: when Redis is down or hung, every cache call answers as a miss
instead of raising, so pages, log-in, sessions and the API keep working from the database.

What the CRM keeps in the cache is an optimisation or a soft limit: sessions (``cached_db`` reads
the database on a miss and writes it first) and the API throttle (which lets requests through
while it cannot count them). Nothing is lost when the cache is away.

A dead Redis costs little: short socket time-outs, no retries, and a circuit breaker
(:mod:`core.breaker`) that skips Redis for ``CRM_CACHE_RETRY_AFTER`` seconds after a failure.

Writes that could not reach Redis (a session flushed at log-out, a session saved after a password
change) would leave the old value there if Redis comes back with its data (a network partition
rather than a restart). The backend remembers those keys and deletes them first thing when Redis
answers again, so a logged-out session cannot come back from the cache.
"""

import threading

import redis
from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from kombu.utils.url import maybe_sanitize_url
from redis.backoff import NoBackoff
from redis.retry import Retry

from .breaker import Breaker, logger

# What "Redis is not there" looks like. Anything else (a bad key, a value that will not pickle) is
# a bug and still raises.
CACHE_ERRORS = (
    redis.exceptions.ConnectionError,  # refused, reset, closed, still loading, authentication
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,  # a replica after a fail-over
    redis.exceptions.OutOfMemoryError,  # maxmemory reached with a noeviction policy
    OSError,
)

# A dead Redis must cost a request a fraction of a second, once per breaker window.
DEFAULT_OPTIONS = {"socket_connect_timeout": 0.25, "socket_timeout": 0.5, "retry_on_timeout": False}
STALE_KEYS_MAX = 10_000


class _Location:
    """Per Redis location and per process: the breaker and the keys written while Redis was away."""

    def __init__(self, location: str):
        self.breaker = Breaker(
            f"Cache (Redis at {maybe_sanitize_url(location)})",
            retry_after=lambda: getattr(settings, "CRM_CACHE_RETRY_AFTER", 5),
            fallback="serving without it: sessions from the database, API throttling off",
        )
        self.stale: set[str] = set()
        self.overflowed = False
        self.lock = threading.Lock()

    def remember(self, keys) -> None:
        if not keys:
            return
        with self.lock:
            if len(self.stale) + len(keys) > STALE_KEYS_MAX:
                self.overflowed = True
                return
            self.stale.update(keys)


_locations: dict[str, _Location] = {}
_locations_lock = threading.Lock()


def _location(location: str) -> _Location:
    state = _locations.get(location)
    if state is None:
        with _locations_lock:
            state = _locations.setdefault(location, _Location(location))
    return state


def breakers_reset() -> None:
    """Forget every outage (tests)."""
    with _locations_lock:
        _locations.clear()


class FaultTolerantRedisCache(RedisCache):
    """Django's Redis cache whose every call answers as a miss while Redis is unreachable."""

    def __init__(self, server, params):
        options = {**DEFAULT_OPTIONS, "retry": Retry(NoBackoff(), 0), **params.get("OPTIONS", {})}
        super().__init__(server, {**params, "OPTIONS": options})
        self._state = _location(",".join(self._servers))

    def _run(self, call, fallback, writes=()):
        state = self._state
        if state.breaker.is_down or state.stale:
            if not state.breaker.allows():
                state.remember(writes)
                return fallback
            try:
                self._stale_delete(state)
            except CACHE_ERRORS as exc:
                state.breaker.failed(exc)
                state.remember(writes)
                return fallback
        try:
            result = call()
        except CACHE_ERRORS as exc:
            state.breaker.failed(exc)
            state.remember(writes)
            return fallback
        state.breaker.succeeded()
        return result

    def _stale_delete(self, state: _Location) -> None:
        """Delete what Redis may still hold from before the writes it missed."""
        with state.lock:
            keys, overflowed = list(state.stale), state.overflowed
        if keys:
            self._cache.delete_many(keys)
        with state.lock:
            state.stale.difference_update(keys)
            state.overflowed = False
        if overflowed:
            logger.warning(
                "%s: more than %d writes were missed during the outage; entries older than the outage "
                "may remain until they expire.",
                state.breaker.name,
                STALE_KEYS_MAX,
            )

    # The public API of Django's cache, each call guarded. The keys are made here so that the ones
    # a failed write leaves stale can be remembered.

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._run(lambda: self._cache.add(key, value, self.get_backend_timeout(timeout)), False)

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._run(lambda: self._cache.get(key, default), default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        self._run(lambda: self._cache.set(key, value, self.get_backend_timeout(timeout)), None, (key,))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._run(lambda: self._cache.touch(key, self.get_backend_timeout(timeout)), False)

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._run(lambda: self._cache.delete(key), False, (key,))

    def get_many(self, keys, version=None):
        key_map = {self.make_and_validate_key(key, version=version): key for key in keys}
        found = self._run(lambda: self._cache.get_many(key_map.keys()), {})
        return {key_map[k]: v for k, v in found.items()}

    def has_key(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._run(lambda: self._cache.has_key(key), False)

    def incr(self, key, delta=1, version=None):
        """While Redis is away a counter starts again from zero (a rate limit lets the call through);
        a missing key still raises ``ValueError`` as Django documents."""
        key = self.make_and_validate_key(key, version=version)
        return self._run(lambda: self._cache.incr(key, delta), delta, (key,))

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        if not data:
            return []
        safe_data = {self.make_and_validate_key(key, version=version): value for key, value in data.items()}
        failed = self._run(
            lambda: self._cache.set_many(safe_data, self.get_backend_timeout(timeout)), list(data), list(safe_data)
        )
        return failed or []

    def delete_many(self, keys, version=None):
        if not keys:
            return
        safe_keys = [self.make_and_validate_key(key, version=version) for key in keys]
        self._run(lambda: self._cache.delete_many(safe_keys), None, safe_keys)

    def clear(self):
        return self._run(self._cache.clear, False)
