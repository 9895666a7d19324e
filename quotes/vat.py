"""Quote arithmetic, Italian style: each line's net is rounded to the cent, then VAT is computed once
per rate on the sum of that rate's nets (not line by line) and rounded half up."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from core.currency import quantize_cents
from core.rounding import line_net

__all__ = ["QuoteTotals", "VatGroup", "line_net", "totals_of"]

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class VatGroup:
    rate: Decimal
    taxable: Decimal
    vat: Decimal
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuoteTotals:
    subtotal: Decimal = ZERO
    groups: tuple[VatGroup, ...] = field(default_factory=tuple)
    vat_total: Decimal = ZERO
    total: Decimal = ZERO


def totals_of(lines: Iterable) -> QuoteTotals:
    """Subtotal, VAT per rate and total of lines with ``net_total``, ``vat_rate`` and ``vat_exemption_note``."""
    taxable: dict[Decimal, Decimal] = {}
    notes: dict[Decimal, list[str]] = {}
    for line in lines:
        rate = Decimal(line.vat_rate).quantize(Decimal("0.01"))
        taxable[rate] = taxable.get(rate, ZERO) + line.net_total
        note = (getattr(line, "vat_exemption_note", "") or "").strip()
        if note and note not in notes.setdefault(rate, []):
            notes[rate].append(note)
    groups = tuple(
        VatGroup(
            rate=rate,
            taxable=quantize_cents(amount),
            vat=quantize_cents(amount * rate / Decimal(100)),
            notes=tuple(notes.get(rate, ())),
        )
        for rate, amount in sorted(taxable.items(), reverse=True)
    )
    subtotal = quantize_cents(sum((g.taxable for g in groups), ZERO))
    vat_total = quantize_cents(sum((g.vat for g in groups), ZERO))
    return QuoteTotals(subtotal=subtotal, groups=groups, vat_total=vat_total, total=subtotal + vat_total)
