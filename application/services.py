"""The application's services by context, composed over one Marketplace (the event store).

Services hold each other, never inherit: escrows use listings, payments and subscriptions;
each file reads on its own. The composition root (wibestore/) calls ``compose`` once with the
adapters for the ports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from application.accounts import Accounts
from application.catalogue import Catalogue
from application.escrows import Escrows
from application.listings import Listings
from application.marketplace import Marketplace
from application.media import MediaStore
from application.passwords import Passwords
from application.payments import Payments
from application.ports import Clock, Email, LoginThrottle
from application.subscriptions import Subscriptions
from application.tokens import Tokens
from application.uploads import Uploads
from application.vault import Vault


@dataclass(frozen=True)
class Services:
    app: Marketplace
    accounts: Accounts
    catalogue: Catalogue
    uploads: Uploads
    listings: Listings
    payments: Payments
    subscriptions: Subscriptions
    escrows: Escrows


def compose(
    app: Marketplace,
    *,
    clock: Clock,
    passwords: Passwords,
    tokens: Tokens,
    throttle: LoginThrottle,
    send_email: Callable[[Email], None],
    frontend_url: str,
    vault: Vault,
    media: MediaStore,
    request_thumbnail: Callable[[str, str], None],
    delivery_window: timedelta,
    confirmation_window: timedelta,
) -> Services:
    uploads = Uploads(clock=clock, media=media, request_thumbnail=request_thumbnail)
    listings = Listings(app, clock=clock, vault=vault, uploads=uploads)
    payments = Payments(app, clock=clock)
    subscriptions = Subscriptions(app, clock=clock, payments=payments)
    return Services(
        app=app,
        accounts=Accounts(
            app,
            clock=clock,
            passwords=passwords,
            tokens=tokens,
            throttle=throttle,
            send_email=send_email,
            frontend_url=frontend_url,
            uploads=uploads,
        ),
        catalogue=Catalogue(app),
        uploads=uploads,
        listings=listings,
        payments=payments,
        subscriptions=subscriptions,
        escrows=Escrows(
            app,
            clock=clock,
            vault=vault,
            listings=listings,
            payments=payments,
            subscriptions=subscriptions,
            delivery_window=delivery_window,
            confirmation_window=confirmation_window,
        ),
    )
