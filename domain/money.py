"""Money: an integer number of tiyin (1 UZS = 100 tiyin). Never floats.

The one place amounts cross the wire: ``parse_amount`` reads what a client sends,
``format_amount`` writes what the API answers (and what the audit's summary prints).
"""

from __future__ import annotations

import re
from decimal import Decimal

from domain.errors import DomainError

MAX_DIGITS = 15  # as the contract: at most 15 digits, 2 of them after the point
# The one grammar of a wire amount: ASCII digits, an optional sign, an optional point followed
# by digits. No underscores ("1_000"), exponents ("1e5"), spaces, "NaN" or "Infinity", and no
# other script's digits (Arabic-Indic, full-width): Python's Decimal() takes all of them.
AMOUNT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def parse_amount(value: str | int | float | Decimal, field: str = "price") -> int:
    """A wire amount (a JSON number or a decimal string, 2 places at most) as tiyin."""
    if isinstance(value, bool):  # a bool is an int to Python, not an amount to anyone
        raise InvalidAmount("A valid number is required.", field)
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    if AMOUNT.fullmatch(text) is None:
        raise InvalidAmount("A valid number is required.", field)
    amount = Decimal(text)
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidAmount("Ensure that there are no more than 2 decimal places.", field)
    tiyin = int(amount * 100)
    if len(str(abs(tiyin))) > MAX_DIGITS:
        raise InvalidAmount(
            f"Ensure that there are no more than {MAX_DIGITS} digits in total.", field
        )
    return tiyin


def format_amount(tiyin: int) -> str:
    """Tiyin as the contract's 2-place decimal string, e.g. 15000000 -> "150000.00"."""
    sign = "-" if tiyin < 0 else ""
    whole, cents = divmod(abs(tiyin), 100)
    return f"{sign}{whole}.{cents:02d}"


class InvalidAmount(DomainError):
    def __init__(self, message: str, field: str = "price") -> None:
        super().__init__(message, field=field)
