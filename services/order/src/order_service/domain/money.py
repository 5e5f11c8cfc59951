"""Money in minor units (cents), one currency per order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Money:
    currency_code: str  # ISO 4217
    minor_units: int

    def times(self, quantity: int) -> Money:
        return Money(self.currency_code, self.minor_units * quantity)

    def plus(self, other: Money) -> Money:
        if other.currency_code != self.currency_code:
            raise ValueError(f"cannot add {other.currency_code} to {self.currency_code}")
        return Money(self.currency_code, self.minor_units + other.minor_units)
