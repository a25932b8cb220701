"""PhoneCode: a one-time code per phone and purpose, used at most once (CONTRACT §3.12, A11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.phone_code import (
    MAX_FAILED_ATTEMPTS,
    CodeExpired,
    InvalidCode,
    PhoneCode,
    Purpose,
    TelegramChat,
    normalise_any_phone,
)
from domain.user import InvalidPhoneNumber

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
LIFETIME = timedelta(minutes=10)
PHONE = "+998901234567"


def issued(digest: str = "right") -> PhoneCode:
    code = PhoneCode(Purpose.TELEGRAM, PHONE)
    code.issue(digest, NOW, NOW + LIFETIME, telegram_id=42, full_name="Ann")
    code.collect_events()
    return code


def names(code: PhoneCode | TelegramChat) -> list[str]:
    return [type(e).__name__ for e in code.collect_events()]


def test_the_right_code_in_time_is_used_once() -> None:
    code = issued()
    code.use("right", NOW + timedelta(minutes=9))
    assert names(code) == ["Used"]
    with pytest.raises(InvalidCode, match="allaqachon ishlatilgan"):
        code.use("right", NOW + timedelta(minutes=9))
    assert names(code) == []


def test_the_right_code_too_late_is_expired_and_records_nothing() -> None:
    code = issued()
    with pytest.raises(CodeExpired, match="Kod muddati tugagan"):
        code.use("right", NOW + LIFETIME)
    assert names(code) == []
    assert code.is_pending


def test_a_wrong_guess_is_recorded_and_the_fifth_spends_the_code() -> None:
    code = issued()
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(InvalidCode):
            code.use("wrong", NOW)
    assert names(code) == ["GuessFailed"] * (MAX_FAILED_ATTEMPTS - 1)
    assert code.is_pending
    with pytest.raises(InvalidCode):
        code.use("wrong", NOW)
    assert not code.is_pending
    with pytest.raises(InvalidCode):  # even the right one, now
        code.use("right", NOW)


def test_a_new_code_replaces_the_old_and_resets_the_guesses() -> None:
    code = issued("first")
    with pytest.raises(InvalidCode):
        code.use("wrong", NOW)
    code.issue("second", NOW, NOW + LIFETIME, telegram_id=42)
    with pytest.raises(InvalidCode):
        code.use("first", NOW)
    assert code.failed_attempts == 1  # the guess at "first" after the new code
    code.use("second", NOW)
    assert not code.is_pending


def test_a_voided_code_is_refused_and_voiding_twice_records_once() -> None:
    code = issued()
    code.void(NOW)
    code.void(NOW)
    assert names(code) == ["Voided"]
    with pytest.raises(InvalidCode):
        code.use("right", NOW)


def test_an_sms_code_has_the_contract_message() -> None:
    code = PhoneCode(Purpose.SMS, PHONE)
    with pytest.raises(InvalidCode, match=r"Invalid or expired OTP code\."):
        code.use("anything", NOW)


def test_the_id_is_the_purpose_and_phone() -> None:
    assert PhoneCode(Purpose.SMS, PHONE).id == PhoneCode.create_id(Purpose.SMS, PHONE)
    assert PhoneCode.create_id(Purpose.SMS, PHONE) != PhoneCode.create_id(Purpose.TELEGRAM, PHONE)


def test_a_telegram_chat_names_the_phone_it_asked_for_before_when_it_changes() -> None:
    chat = TelegramChat(42)
    assert chat.ask_code_for(PHONE) is None
    assert chat.ask_code_for(PHONE) is None
    assert chat.ask_code_for("+79161234567") == PHONE
    assert names(chat) == ["Started", "PhoneChanged", "PhoneChanged"]


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("901234567", "+998901234567"),
        ("998901234567", "+998901234567"),
        ("+998 (90) 123-45-67", "+998901234567"),
        ("+7 916 123 45 67", "+79161234567"),
        ("712345678", "+998712345678"),
    ],
)
def test_phones_are_normalised_as_the_frontend_does(raw: str, phone: str) -> None:
    assert normalise_any_phone(raw) == phone


@pytest.mark.parametrize("raw", ["12345678", "", "phone", "+998 90 abc 45 67", "1" * 16])
def test_short_or_odd_phones_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalise_any_phone(raw)
