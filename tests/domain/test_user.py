"""User: given events, when a command, then events or an error."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import DomainError
from domain.user import (
    AccountInactive,
    AlreadyVerified,
    CannotBanYourself,
    CannotChangeOwnStaff,
    InvalidPhoneNumber,
    InvalidResetToken,
    InvalidVerificationToken,
    PasswordReused,
    TelegramAlreadyLinked,
    User,
    WeakPassword,
    check_email_not_reserved,
    check_password_strength,
    normalise_phone,
    referral_code,
)

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def registered(**kwargs: object) -> User:
    user = User(email=" Ann@Example.UZ ", password_hash="h1", at=NOW, **kwargs)  # type: ignore[arg-type]
    user.collect_events()
    return user


def events(user: User) -> list[str]:
    return [type(e).__name__ for e in user.collect_events()]


def test_registration_records_a_normalised_email_and_starts_unverified() -> None:
    user = User(email=" Ann@Example.UZ ", password_hash="h1", at=NOW)
    assert events(user) == ["Registered"]
    assert user.email == "ann@example.uz"
    assert not user.is_verified and user.is_active and not user.is_staff
    assert user.password_history == ["h1"]


def test_logging_in_records_the_time() -> None:
    user = registered()
    user.log_in(NOW + timedelta(minutes=1))
    assert events(user) == ["LoggedIn"]
    assert user.last_login == NOW + timedelta(minutes=1)


def test_a_banned_user_cannot_log_in() -> None:
    user = registered()
    user.ban("fraud", NOW)
    user.collect_events()
    with pytest.raises(AccountInactive):
        user.log_in(NOW)
    assert events(user) == []


def test_profile_update_records_only_what_changed() -> None:
    user = registered(full_name="Ann")
    user.update_profile({"full_name": "Ann", "language": "en"})
    emitted = user.collect_events()
    assert [type(e).__name__ for e in emitted] == ["ProfileUpdated"]
    assert emitted[0].changes == {"language": "en"}  # type: ignore[attr-defined]


def test_profile_update_with_no_change_records_nothing() -> None:
    user = registered(full_name="Ann")
    user.update_profile({"full_name": "Ann"})
    assert events(user) == []


def test_profile_update_rejects_an_unknown_language() -> None:
    user = registered()
    with pytest.raises(Exception, match="Language"):
        user.update_profile({"language": "de"})
    assert events(user) == []


def test_password_change_keeps_the_last_five_hashes() -> None:
    user = registered()
    for i in range(2, 8):
        user.change_password(f"h{i}", reused=False)
    assert user.password_history == ["h7", "h6", "h5", "h4", "h3"]


def test_a_reused_password_is_refused() -> None:
    user = registered()
    with pytest.raises(PasswordReused):
        user.change_password("h1-again", reused=True)
    assert events(user) == []


def test_a_reset_token_works_once_and_only_before_it_expires() -> None:
    user = registered()
    user.request_password_reset("digest", NOW + timedelta(hours=1))
    with pytest.raises(InvalidResetToken):
        user.reset_password("other", "h2", NOW, reused=False)
    with pytest.raises(InvalidResetToken):
        user.reset_password("digest", "h2", NOW + timedelta(hours=1), reused=False)
    user.reset_password("digest", "h2", NOW + timedelta(minutes=59), reused=False)
    assert events(user) == ["PasswordResetRequested", "PasswordReset"]
    assert user.tokens_valid_after == NOW + timedelta(minutes=59)
    with pytest.raises(InvalidResetToken):
        user.reset_password("digest", "h3", NOW + timedelta(minutes=59), reused=False)


def test_deleting_twice_is_refused() -> None:
    user = registered()
    user.delete(NOW)
    assert not user.is_active
    with pytest.raises(AccountInactive):
        user.delete(NOW)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+998 90 123-45-67", "+998901234567"),
        ("998901234567", "+998901234567"),
        ("(93) 123 45 67", "+998931234567"),
        ("712345678", "+998712345678"),
    ],
)
def test_uzbek_phone_numbers_are_normalised(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "+7 900 123 45 67", "+998 50 123 45 67", "abc"])
def test_other_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalise_phone(raw)


@pytest.mark.parametrize("password", ["short1!", "1234567890123", "password1", "annexample-secret"])
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(WeakPassword):
        check_password_strength(password, "annexample@mail.uz")


def test_a_decent_password_passes() -> None:
    check_password_strength("Sup3r-Secret!", "ann@example.uz")


def test_sign_ins_from_before_a_ban_are_void() -> None:
    user = registered()
    assert user.accepts_tokens_issued_at(NOW)
    user.ban("fraud", NOW + timedelta(minutes=5))
    assert not user.is_active
    assert not user.accepts_tokens_issued_at(NOW + timedelta(minutes=4))


def test_a_staff_member_cannot_ban_themself() -> None:
    user = registered()
    with pytest.raises(CannotBanYourself):
        user.ban("oops", NOW, by=user.id)
    assert user.is_active
    assert events(user) == []


def test_an_unban_in_the_stored_history_still_lifts_its_ban() -> None:
    user = registered()
    user.ban("fraud", NOW)
    unbanned = User.Unbanned(
        originator_id=user.id,
        originator_version=user.version + 1,
        timestamp=User.Event.create_timestamp(),
    )
    unbanned.mutate(user)
    assert user.is_active


def test_a_telegram_account_is_linked_once() -> None:
    user = registered()
    user.link_telegram(42)
    user.link_telegram(42)
    assert [type(e).__name__ for e in user.collect_events()][-1:] == ["TelegramLinked"]
    assert user.telegram_id == 42
    with pytest.raises(TelegramAlreadyLinked):
        user.link_telegram(43)


def test_a_verified_phone_counts_while_it_is_the_profiles_phone() -> None:
    user = registered()
    user.update_profile({"phone_number": "+998901234567"})
    assert not user.phone_verified
    user.verify_phone("+998901234567")
    assert user.phone_verified
    user.update_profile({"phone_number": "+998907654321"})
    assert not user.phone_verified


def test_the_telegram_placeholder_domain_is_reserved() -> None:
    with pytest.raises(DomainError):
        check_email_not_reserved("tg_42@Telegram.WibeStore.local")
    check_email_not_reserved("ann@example.uz")


def test_an_email_is_verified_by_the_last_link_once_within_its_lifetime() -> None:
    user = registered()
    user.request_verification("first", NOW + timedelta(hours=24), NOW)
    user.request_verification("second", NOW + timedelta(hours=24), NOW)
    user.collect_events()
    with pytest.raises(InvalidVerificationToken):
        user.verify_email("first", NOW)
    with pytest.raises(InvalidVerificationToken):
        user.verify_email("second", NOW + timedelta(hours=24))
    user.verify_email("second", NOW + timedelta(hours=23))
    assert events(user) == ["Verified"]
    assert user.is_verified
    with pytest.raises(InvalidVerificationToken):
        user.verify_email("second", NOW)
    with pytest.raises(AlreadyVerified):
        user.request_verification("third", NOW + timedelta(hours=24), NOW)


def test_staff_grant_ban_unban_and_revoke_name_who_acted_and_repeat_as_nothing() -> None:
    user = registered()
    staff = uuid.uuid4()
    user.grant_staff(staff)
    user.grant_staff(staff)
    user.ban("fraud", NOW, by=staff)
    user.ban("again", NOW, by=staff)
    user.unban(NOW, by=staff)
    user.unban(NOW, by=staff)
    user.revoke_staff(staff)
    user.revoke_staff(staff)
    recorded = user.collect_events()
    assert [type(e).__name__ for e in recorded] == [
        "StaffGranted",
        "Banned",
        "Unbanned",
        "StaffRevoked",
    ]
    assert {e.by for e in recorded} == {staff}  # type: ignore[attr-defined]
    assert user.is_active and not user.is_staff


def test_nobody_revokes_their_own_staff_or_unbans_a_deleted_account() -> None:
    user = registered()
    user.grant_staff()
    with pytest.raises(CannotChangeOwnStaff):
        user.revoke_staff(user.id)
    user.delete(NOW)
    with pytest.raises(AccountInactive):
        user.unban(NOW)


def test_a_ban_stored_before_it_named_the_staff_member_reads_as_the_platform() -> None:
    old = object.__new__(User.Banned)
    old.__dict__.update(reason="fraud", at=NOW)  # as the store decodes an event of then
    assert old.by is None


def test_a_referral_is_noted_only_for_a_code_that_can_be_one_and_not_ones_own() -> None:
    user = registered()
    user.note_referral(referral_code(user.id))
    user.note_referral("short")
    user.note_referral("ABCDEFGH1!")
    assert events(user) == []
    other = referral_code(uuid.uuid4())
    user.note_referral(f" {other.lower()} ")
    assert events(user) == ["Referred"]
    assert user.referred_by_code == other
