"""A process that keeps buying and selling (for tests/test_money_failures.py to SIGKILL at
random moments): each round deposits, lists, approves, buys, delivers and confirms or
disputes and refunds. Run with the environment of the store under test."""

from __future__ import annotations

import sys
import uuid

from application.actor import Actor
from domain.errors import DomainError
from wibestore.container import build

PASSWORD = "Sup3r-Secret!"
UZS = 100


def main() -> int:
    container = build(fast_passwords=True)
    container.start(projectors=False)
    tag = uuid.uuid4().hex[:8]
    staff = container.accounts.create_user(
        Actor.platform("operator"), f"staff-{tag}@example.uz", PASSWORD, staff=True
    )
    seller = container.accounts.register(f"seller-{tag}@example.uz", PASSWORD)
    buyer = container.accounts.register(f"buyer-{tag}@example.uz", PASSWORD)
    rounds = 0
    while True:
        container.payments.credit_deposit(Actor.platform("seed"), buyer, uuid.uuid4(), 50_000 * UZS)
        listing = container.listings.create_listing(
            Actor.user(seller),
            "pubg-mobile",
            {"title": f"Round {rounds}", "description": "D", "price": 30_000 * UZS},
        )
        container.listings.approve_listing(Actor.user(staff), listing)
        escrow = container.escrows.purchase(Actor.user(buyer), listing)
        try:
            if rounds % 3 == 2:
                container.escrows.dispute(Actor.user(buyer), escrow.id, "wrong account")
                container.escrows.resolve_dispute(
                    Actor.user(staff), escrow.id, "refund", "refunded"
                )
            else:
                container.escrows.deliver(
                    Actor.user(seller),
                    escrow.id,
                    {"account_email": "a@b.uz", "account_password": "p"},
                )
                container.escrows.confirm_purchase(Actor.user(buyer), escrow.id)
            if rounds % 5 == 4:
                withdrawal = container.payments.request_withdrawal(
                    Actor.user(seller), 10_000 * UZS, "visa"
                )
                container.payments.approve_withdrawal(Actor.user(staff), seller, withdrawal)
        except DomainError as e:
            print(f"refused: {e.message}", file=sys.stderr)
        rounds += 1
        print(rounds, flush=True)


if __name__ == "__main__":
    sys.exit(main())
