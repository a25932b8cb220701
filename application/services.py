"""The application's services by context, composed over one Marketplace (the event store).

Services hold each other, never inherit: escrows use listings, payments and subscriptions;
each file reads on its own. The composition root (wibestore/) calls ``compose`` once with the
adapters for the ports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.accounts import Accounts
from application.catalogue import Catalogue
from application.chats import Chats
from application.escrows import Escrows
from application.fraud import FraudReviews
from application.listings import Listings
from application.marketplace import Marketplace
from application.notifications import Notifications
from application.payments import Payments
from application.phone_codes import PhoneCodes
from application.ports import (
    Clock,
    CredentialsVault,
    ImageProcessor,
    LoginThrottle,
    MediaStore,
    NotificationStates,
    PasswordHasher,
    Presence,
    SmsSender,
    TaskQueue,
    TokenIssuer,
)
from application.reports import Reports
from application.reviews import Reviews
from application.saved_searches import SavedSearchService
from application.subscriptions import Subscriptions
from application.uploads import Uploads


@dataclass(frozen=True)
class Services:
    app: Marketplace
    accounts: Accounts
    phone_codes: PhoneCodes
    saved_searches: SavedSearchService
    fraud: FraudReviews
    catalogue: Catalogue
    uploads: Uploads
    listings: Listings
    payments: Payments
    subscriptions: Subscriptions
    escrows: Escrows
    reports: Reports
    reviews: Reviews
    notifications: Notifications
    chats: Chats


def compose(
    app: Marketplace,
    *,
    clock: Clock,
    passwords: PasswordHasher,
    tokens: TokenIssuer,
    throttle: LoginThrottle,
    tasks: TaskQueue,
    frontend_url: str,
    vault: CredentialsVault,
    media: MediaStore,
    images: ImageProcessor,
    delivery_window: timedelta,
    confirmation_window: timedelta,
    sms: SmsSender,
    code_digest_key: str,
    telegram_bot_secret: str,
    telegram_code_lifetime: timedelta,
    sms_code_lifetime: timedelta,
    notification_states: NotificationStates,
    presence: Presence,
) -> Services:
    uploads = Uploads(
        clock=clock, media=media, images=images, request_thumbnail=tasks.make_thumbnail
    )
    listings = Listings(app, clock=clock, vault=vault, uploads=uploads)
    payments = Payments(app, clock=clock)
    subscriptions = Subscriptions(app, clock=clock, payments=payments)
    accounts = Accounts(
        app,
        clock=clock,
        passwords=passwords,
        tokens=tokens,
        throttle=throttle,
        send_email=tasks.send_email,
        frontend_url=frontend_url,
        uploads=uploads,
    )
    return Services(
        app=app,
        accounts=accounts,
        phone_codes=PhoneCodes(
            app,
            accounts=accounts,
            clock=clock,
            send_sms=sms.send,
            digest_key=code_digest_key,
            bot_secret=telegram_bot_secret,
            telegram_code_lifetime=telegram_code_lifetime,
            sms_code_lifetime=sms_code_lifetime,
        ),
        saved_searches=SavedSearchService(app, clock=clock),
        fraud=FraudReviews(app, clock=clock),
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
        reports=Reports(app, clock=clock),
        reviews=Reviews(app, clock=clock),
        notifications=Notifications(app, clock=clock, states=notification_states),
        chats=Chats(app, clock=clock, presence=presence),
    )
