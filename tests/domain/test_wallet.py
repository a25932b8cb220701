"""Wallet: given events, when a money command, then events or an error."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.wallet import (
    MIN_WITHDRAWAL,
    InsufficientFunds,
    InvalidAmount,
    NoSuchWithdrawal,
    Wallet,
    wallet_id,
)

UZS = 100
NOW = datetime(2026, 11, 28, tzinfo=UTC)
STAFF = uuid.uuid4()


def funded(amount: int = 100_000 * UZS) -> Wallet:
    wallet = Wallet(owner_id=uuid.uuid4())
    wallet.deposit(uuid.uuid4(), amount)
    wallet.collect_events()
    return wallet


def names(wallet: Wallet) -> list[str]:
    return [type(e).__name__ for e in wallet.collect_events()]


def total(wallet: Wallet) -> int:
    return wallet.available + wallet.held + wallet.pending_withdrawal


def test_a_wallet_id_follows_from_its_owner() -> None:
    owner = uuid.uuid4()
    assert Wallet(owner_id=owner).id == wallet_id(owner)


def test_a_deposit_is_credited_once_however_often_it_is_delivered() -> None:
    wallet = Wallet(owner_id=uuid.uuid4())
    deposit = uuid.uuid4()
    wallet.deposit(deposit, 5_000 * UZS)
    wallet.deposit(deposit, 5_000 * UZS)
    assert wallet.available == 5_000 * UZS
    assert names(wallet) == ["Opened", "Deposited"]


@pytest.mark.parametrize("amount", [0, -1])
def test_amounts_must_be_positive(amount: int) -> None:
    with pytest.raises(InvalidAmount):
        funded().deposit(uuid.uuid4(), amount)


def test_a_hold_moves_money_from_available_to_held_and_refuses_overdraft() -> None:
    wallet = funded(1_000 * UZS)
    escrow = uuid.uuid4()
    with pytest.raises(InsufficientFunds):
        wallet.hold(escrow, 1_001 * UZS)
    wallet.hold(escrow, 600 * UZS)
    assert (wallet.available, wallet.held) == (400 * UZS, 600 * UZS)
    with pytest.raises(InsufficientFunds):
        wallet.hold(uuid.uuid4(), 401 * UZS)


def test_a_captured_hold_leaves_and_a_released_one_returns() -> None:
    wallet = funded(1_000 * UZS)
    sold, refunded = uuid.uuid4(), uuid.uuid4()
    wallet.hold(sold, 300 * UZS)
    wallet.hold(refunded, 200 * UZS)
    assert wallet.capture(sold) == 300 * UZS
    wallet.release(refunded)
    assert (wallet.available, wallet.held) == (700 * UZS, 0)
    with pytest.raises(Exception, match="holds no funds"):
        wallet.capture(sold)


def test_a_withdrawal_waits_in_pending_until_paid_or_returned() -> None:
    wallet = funded(50_000 * UZS)
    paid, returned = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(InvalidAmount):
        wallet.request_withdrawal(uuid.uuid4(), MIN_WITHDRAWAL - 1, "visa", NOW)
    wallet.request_withdrawal(paid, 20_000 * UZS, "visa", NOW)
    wallet.request_withdrawal(returned, 10_000 * UZS, "visa", NOW)
    assert (wallet.available, wallet.pending_withdrawal) == (20_000 * UZS, 30_000 * UZS)
    wallet.complete_withdrawal(paid, STAFF, NOW)
    wallet.return_withdrawal(returned, "rejected", "Card blocked", NOW)
    assert (wallet.available, wallet.pending_withdrawal) == (30_000 * UZS, 0)
    with pytest.raises(NoSuchWithdrawal):
        wallet.complete_withdrawal(paid, STAFF, NOW)  # approving twice
    with pytest.raises(InsufficientFunds):
        wallet.request_withdrawal(uuid.uuid4(), 30_001 * UZS, "visa", NOW)


def test_credits_and_debits_apply_once_per_reference() -> None:
    wallet = funded(1_000 * UZS)
    sale, subscription = uuid.uuid4(), uuid.uuid4()
    wallet.credit(sale, 900 * UZS, "sale")
    wallet.credit(sale, 900 * UZS, "sale")
    wallet.debit(subscription, 500 * UZS, "subscription")
    wallet.debit(subscription, 500 * UZS, "subscription")
    assert wallet.available == 1_400 * UZS
    with pytest.raises(InsufficientFunds):
        wallet.debit(uuid.uuid4(), 1_401 * UZS, "subscription")


def test_no_command_moves_money_out_of_thin_air() -> None:
    wallet = funded(20_000 * UZS)
    before = total(wallet)
    escrow, withdrawal = uuid.uuid4(), uuid.uuid4()
    wallet.hold(escrow, 2_000 * UZS)
    wallet.request_withdrawal(withdrawal, MIN_WITHDRAWAL, "visa", NOW)
    assert total(wallet) == before
    wallet.release(escrow)
    wallet.return_withdrawal(withdrawal, "cancelled", "", NOW)
    assert total(wallet) == before
