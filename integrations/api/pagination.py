"""Moved to core.api.pagination. Kept only for opportunities/api/, which the stages renovation is editing:
once it imports core.api.pagination, delete this module."""

from core.api.pagination import PageNumberPagination  # noqa: F401
