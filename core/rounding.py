"""Rounding amounts to the cent: plain arithmetic, below the models (which use it for line totals)
and the currency helpers (core/currency.py, which re-exports it). ``line_net`` is the one rule for a
product line's amount, on deals and quotes alike."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def quantize_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_net(*, quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """Quantity × unit price × (1 − discount %), rounded to the cent (half up)."""
    return quantize_cents(quantity * unit_price * (Decimal(100) - discount_percent) / Decimal(100))
