"""Phone codes at the application level: the bot's secret is the only way to issue a Telegram
code, a refusal writes nothing, and a code two sign-ins race for signs in exactly one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from application.accounts import SignedIn
from application.phone_codes import BotUnauthorized
from domain.phone_code import InvalidCode
from domain.unique import UniqueKey, key_id
from domain.user import InvalidPhoneNumber
from tests.application.test_account_authorization import refused
from tests.conftest import BOT_SECRET
from wibestore.container import Container

PHONE = "+998901234567"


@pytest.mark.parametrize("secret", ["", "x", BOT_SECRET.upper(), BOT_SECRET + " "])
def test_only_the_bot_secret_issues_a_telegram_code(container: Container, secret: str) -> None:
    refused(container, BotUnauthorized, container.phone_codes.issue_telegram_code, secret, 1, PHONE)


def test_a_bad_phone_issues_nothing(container: Container) -> None:
    refused(
        container,
        InvalidPhoneNumber,
        container.phone_codes.issue_telegram_code,
        BOT_SECRET,
        1,
        "1234",
    )


def test_an_unknown_phone_or_code_writes_nothing(container: Container) -> None:
    refused(container, InvalidCode, container.phone_codes.sign_in_with_telegram, PHONE, "123456")


def test_two_sign_ins_racing_for_one_code_sign_in_one_user_once(container: Container) -> None:
    issued = container.phone_codes.issue_telegram_code(BOT_SECRET, 7, PHONE, "Racer")

    def attempt(_: int) -> Any:
        try:
            return container.phone_codes.sign_in_with_telegram(PHONE, issued.code)
        except InvalidCode as e:
            return e

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(attempt, range(4)))
    winners = [o for o in outcomes if isinstance(o, SignedIn)]
    assert len(winners) == 1
    assert all(isinstance(o, InvalidCode) for o in outcomes if o not in winners)
    owner = container.app.load(key_id("telegram_id", "7"), UniqueKey).owner_id
    assert owner == winners[0].user_id
