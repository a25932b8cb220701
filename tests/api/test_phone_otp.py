"""CONTRACT A11/A12: a code texted to a phone (through the SmsSender port: no SMS provider yet)
proves the phone; a signed-in caller whose profile has that phone gets it recorded."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from litestar.testing import TestClient

from tests.api.conftest import bearer, error, register
from tests.conftest import FixedClock, read_texts
from wibestore.container import Container

PHONE = "+998901234567"
INVALID = "Invalid or expired OTP code."


def request_code(client: TestClient[Any], phone: str = PHONE) -> Any:
    return client.post("/api/v1/auth/otp/request/", json={"phone_number": phone})


def texted_code(container: Container) -> str:
    texts = read_texts(container.settings.sms_dir)
    match = re.search(r"\b(\d{6})\b", texts[-1]["text"])
    assert match is not None
    return match.group(1)


def verify(client: TestClient[Any], otp: str, phone: str = PHONE, **headers: str) -> Any:
    return client.post(
        "/api/v1/auth/otp/verify/", json={"phone_number": phone, "otp": otp}, headers=headers
    )


def test_a_texted_code_verifies_once(client: TestClient[Any], container: Container) -> None:
    response = request_code(client, "90 123 45 67")
    assert response.json() == {"success": True, "message": "OTP sent to your phone."}
    assert read_texts(container.settings.sms_dir)[-1]["to"] == PHONE
    otp = texted_code(container)
    ok = verify(client, otp)
    assert ok.json() == {"success": True, "message": "OTP verified successfully."}
    again = verify(client, otp)
    assert again.status_code == 400
    assert error(again)["message"] == INVALID


def test_a_wrong_or_late_code_is_refused(
    client: TestClient[Any], container: Container, clock: FixedClock
) -> None:
    request_code(client)
    otp = texted_code(container)
    assert error(verify(client, f"{(int(otp) + 1) % 1_000_000:06d}"))["message"] == INVALID
    clock.advance(minutes=5)
    assert error(verify(client, otp))["message"] == INVALID


def test_a_second_request_within_a_minute_is_throttled(
    client: TestClient[Any], container: Container, clock: FixedClock
) -> None:
    assert request_code(client).status_code == 200
    clock.advance(seconds=30)
    throttled = request_code(client)
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "30"
    assert len(read_texts(container.settings.sms_dir)) == 1
    clock.advance(seconds=30)
    assert request_code(client).status_code == 200


def test_the_signed_in_holder_of_the_phone_gets_it_verified(
    client: TestClient[Any], container: Container, clock: FixedClock
) -> None:
    ann = register(client, "ann@example.uz", phone_number=PHONE)
    bob = register(client, "bob@example.uz")
    request_code(client)
    otp = texted_code(container)
    # Bob proves the phone, but it is not his profile's: nothing is recorded on anyone.
    assert verify(client, otp, **bearer(bob["tokens"]["access"])).status_code == 200
    assert not container.accounts.user(UUID(ann["user"]["id"])).phone_verified
    assert container.accounts.user(UUID(bob["user"]["id"])).verified_phone is None
    clock.advance(minutes=1)
    request_code(client)
    assert (
        verify(client, texted_code(container), **bearer(ann["tokens"]["access"])).status_code == 200
    )
    assert container.accounts.user(UUID(ann["user"]["id"])).phone_verified


def test_bad_phones_and_bodies_are_400(client: TestClient[Any]) -> None:
    assert error(request_code(client, "12345"))["details"] == {
        "phone_number": ["Enter a valid Uzbek phone number."]
    }
    assert request_code(client, "9" * 21).status_code == 400
    assert verify(client, "1234567").status_code == 400
    assert error(verify(client, "123456", phone="nope"))["message"] == INVALID
    assert client.post("/api/v1/auth/otp/verify/", json={"otp": "123456"}).status_code == 400
