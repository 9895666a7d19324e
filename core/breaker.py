"""A small circuit breaker for the services a request may use but must not wait for (Redis as the
cache, Redis as the Celery broker).

After a failure the breaker is *open* for ``retry_after`` seconds: callers skip the service and take
their fallback (the database, the beat sweep) without paying a connection time-out on every
request. The first call after the window tries again; a success closes the breaker. It is
process-local: each gunicorn worker finds out on its own, at the cost of one short time-out.

Operators see one WARNING line when a service goes away (at most one per ``log_every`` seconds
while it stays away, so an outage does not flood the log) and one when it is back.
"""

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger("crm.outage")


class Breaker:
    def __init__(
        self,
        name: str,
        *,
        retry_after: Callable[[], float],
        fallback: str,
        log_every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.name, self.fallback = name, fallback
        self._retry_after, self._log_every, self._clock = retry_after, log_every, clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.down_since: float | None = None
        self.failed_at = 0.0  # the last failure; the window is read from the settings at each call
        self._last_logged: float | None = None
        self.failures = 0  # calls that failed since the service went away
        self.skipped = 0  # calls not even tried because the breaker was open

    @property
    def is_down(self) -> bool:
        return self.down_since is not None

    def allows(self) -> bool:
        """May we try the service now? False while the breaker is open (the call is counted as skipped)."""
        if self.down_since is None or self._clock() >= self.failed_at + float(self._retry_after()):
            return True
        self.skipped += 1
        return False

    def failed(self, exc: BaseException) -> None:
        now = self._clock()
        with self._lock:
            self.failed_at = now
            self.failures += 1
            if self.down_since is None:
                self.down_since = now
            if self._last_logged is not None and now - self._last_logged < self._log_every:
                return
            self._last_logged = now
            failures, skipped = self.failures, self.skipped
        logger.warning(
            "%s unreachable (%s: %s); %s. Retrying every %.0f s (%d failed, %d skipped calls so far).",
            self.name,
            type(exc).__name__,
            exc,
            self.fallback,
            self._retry_after(),
            failures,
            skipped,
        )

    def succeeded(self) -> bool:
        """Record a success; True when this ends an outage (the caller may have catching up to do)."""
        if self.down_since is None:
            return False
        with self._lock:
            if self.down_since is None:
                return False
            down_for = self._clock() - self.down_since
            failures, skipped = self.failures, self.skipped
            self.reset()
        logger.warning(
            "%s reachable again after %.0f s (%d failed, %d skipped calls).", self.name, down_for, failures, skipped
        )
        return True
