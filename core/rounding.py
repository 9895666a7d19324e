"""Rounding amounts to the cent: plain arithmetic, below the models (which use it for line totals)
and the currency helpers (core/currency.py, which re-exports it)."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def quantize_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
