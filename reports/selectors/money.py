"""Money in the reports: an amount in the report's currency kept apart from the amounts that could
not be converted, and which amount column a report adds up.

By default amounts are the deals' ``amount_base`` (converted to ``settings.CRM_BASE_CURRENCY`` at
the rate of the deal's date); deals with no known rate are counted, but their amounts are listed
apart per currency (``unconverted``) and never added to the converted ones: adding euros to yen
would give a number that means nothing. With ``currency=XYZ`` only the deals in that currency are
reported, with their own ``amount`` (nothing converted). Sums are exact decimals; rounding happens
once, at the end, so that a total equals the sum of its rows.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, Q, Sum, Value

from core.currency import base_currency

from .common import all_of

ZERO = Decimal("0.00")


@dataclass
class Money:
    """An amount in the report's currency plus, apart, what could not be converted (per currency)."""

    amount: Decimal = ZERO
    unconverted: dict[str, Decimal] = field(default_factory=dict)

    def add(self, amount, unconverted_amount=None, currency=None):
        self.amount += amount or ZERO
        if unconverted_amount:
            self.unconverted[currency] = self.unconverted.get(currency, ZERO) + unconverted_amount

    def merge(self, other: "Money"):
        self.add(other.amount)
        for currency, value in other.unconverted.items():
            self.add(None, value, currency)


class CurrencyMode:
    """Which amount column to add, and which deals count as converted."""

    def __init__(self, currency: str):
        self.currency = currency
        self.code = currency or base_currency()
        self.column = "amount" if currency else "amount_base"
        self.converted = None if currency else Q(amount_base__isnull=False)
        self.unconverted = None if currency else Q(amount_base__isnull=True)

    def narrow(self, deals):
        return deals.filter(currency=self.currency) if self.currency else deals

    def sum(self, condition=None):
        return Sum(self.column, filter=all_of(condition, self.converted))

    def raw_sum(self, condition=None):
        """Amounts without a rate, in their own currency (always empty in single-currency mode)."""
        if self.unconverted is None:
            return Value(None, output_field=DecimalField(max_digits=18, decimal_places=2))
        return Sum("amount", filter=all_of(condition, self.unconverted))
