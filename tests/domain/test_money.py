"""One strict grammar for every amount on the wire, read by domain/money.py ``parse_amount``
and written by its ``format_amount``."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.money import InvalidAmount, format_amount, parse_amount


@pytest.mark.parametrize(
    ("wire", "tiyin"),
    [
        ("150000.00", 15_000_000),
        ("150000", 15_000_000),
        ("0.5", 50),
        ("007.10", 710),
        ("-5", -500),
        (150000, 15_000_000),
        (1000.5, 100_050),
        (Decimal("12.34"), 1234),
    ],
)
def test_decimal_strings_and_json_numbers_become_tiyin(
    wire: str | int | float | Decimal, tiyin: int
) -> None:
    assert parse_amount(wire, "amount") == tiyin


@pytest.mark.parametrize(
    "wire",
    [
        "1_000_000",
        "1e5",
        "1E+5",
        " 100",
        "100 ",
        "+100",
        ".5",
        "5.",
        "NaN",
        "Infinity",
        "-inf",
        "\u0661\u0660\u0660",  # Arabic-Indic 100, which Decimal() takes
        "\uff11\uff10\uff10",  # full-width 100
        "0x10",
        "1,000",
        "",
        True,
        1e20,
    ],
)
def test_anything_outside_the_grammar_is_not_an_amount(wire: str | float | bool) -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_amount(wire, "amount")
    assert refused.value.message == "A valid number is required."
    assert refused.value.field == "amount"


def test_more_than_two_places_or_fifteen_digits_are_refused_with_their_own_message() -> None:
    with pytest.raises(InvalidAmount, match="2 decimal places"):
        parse_amount("1.001")
    with pytest.raises(InvalidAmount, match="15 digits"):
        parse_amount("10000000000000000")


def test_every_formatted_amount_parses_back_to_itself() -> None:
    for tiyin in (0, 1, 99, 100, 15_000_000, 10**15 - 1):
        assert parse_amount(format_amount(tiyin)) == tiyin


@pytest.mark.parametrize(
    ("tiyin", "wire"),
    [(15_000_000, "150000.00"), (0, "0.00"), (5, "0.05"), (710, "7.10"), (-150, "-1.50")],
)
def test_tiyin_are_written_with_two_places(tiyin: int, wire: str) -> None:
    assert format_amount(tiyin) == wire
