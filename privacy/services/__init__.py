"""Every write of the privacy features (consent, export, erasure, retention)."""

from .consent import consent_record
from .erasure import ErasureRefused, contact_erase
from .export import contact_export
from .legal_hold import legal_hold_lift, legal_hold_set, may_hold
from .retention import retention_review_refresh, retention_set

__all__ = [
    "ErasureRefused",
    "consent_record",
    "contact_erase",
    "contact_export",
    "legal_hold_lift",
    "legal_hold_set",
    "may_hold",
    "retention_review_refresh",
    "retention_set",
]
