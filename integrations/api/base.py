"""Moved to core.api.base. Kept only for opportunities/api/, which the stages renovation is editing:
once it imports core.api.base, delete this module."""

from core.api.base import ERRORS, IDEMPOTENCY_KEY, IF_MATCH, WRITE_ERRORS, CrmViewSet  # noqa: F401
