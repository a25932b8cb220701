"""Every read model the product serves, in one list (order is creation order)."""

from __future__ import annotations

from projections.chats import ChatsProjector
from projections.escrows import EscrowsProjector
from projections.fraud import FraudProjector
from projections.games import GamesProjector
from projections.listings import ListingsProjector
from projections.live import LiveProjector
from projections.notifications import NotificationsProjector
from projections.referrals import ReferralsProjector
from projections.reports import ReportsProjector
from projections.reviews import ReviewsProjector
from projections.runtime import Projector
from projections.saved_searches import SavedSearchesProjector
from projections.sessions import SessionsProjector
from projections.staff_actions import StaffActionsProjector
from projections.subscriptions import SubscriptionsProjector
from projections.transactions import TransactionsProjector
from projections.users import UsersProjector
from projections.wallets import WalletsProjector

PROJECTORS: tuple[type[Projector], ...] = (
    UsersProjector,
    GamesProjector,
    ListingsProjector,
    WalletsProjector,
    TransactionsProjector,
    EscrowsProjector,
    SubscriptionsProjector,
    SessionsProjector,
    StaffActionsProjector,
    ReferralsProjector,
    SavedSearchesProjector,
    ReportsProjector,
    FraudProjector,
    ReviewsProjector,
    NotificationsProjector,
    ChatsProjector,  # after users: its frames name senders from the users read model
    LiveProjector,
)
