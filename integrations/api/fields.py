"""Moved to core.api.fields. Kept only for opportunities/api/, which the stages renovation is editing:
once it imports core.api.fields, delete this module."""

from core.api.fields import VisibleRelatedField  # noqa: F401
