"""Hypothesis: any sequence of sign-ups, sign-ins, refreshes, logouts, password changes and
deletions keeps the token rules of CONTRACT §1.2 (stateful test over the real HTTP API): an
access token works exactly while its account lives and its sign-in (family) is not revoked."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from litestar.testing import TestClient

from api.app import create_app
from tests.conftest import (
    FixedClock,
    PgSchemas,
    make_settings,
    require_postgres,
    require_redis,
)
from wibestore.container import build

EMAILS = st.sampled_from(["ann@example.uz", "bob@example.uz", "cat@example.uz"])
PASSWORDS = st.sampled_from(["Sup3r-Secret!", "An0ther-Secret!", "Thi3rd-Secret!"])
MAX_FAILURES = 5


@dataclass
class Account:
    password: str
    deleted: bool = False
    history: list[str] = field(default_factory=list)
    families: list[Family] = field(default_factory=list)


@dataclass
class Family:
    account: Account
    current: str
    revoked: bool = False


class AuthLifecycle(RuleBasedStateMachine):
    backend = "sqlite"
    refresh_tokens = Bundle("refresh_tokens")
    access_tokens = Bundle("access_tokens")

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.schemas = PgSchemas() if self.backend == "postgres" else None
        if self.schemas:
            self.schemas.create()  # (and make_settings gives it its own Redis keys)
        self.clock = FixedClock()
        self.container = build(
            make_settings(self.backend, Path(self.tmp.name), self.schemas),
            clock=self.clock,
            fast_passwords=True,
        )
        self.container.start()
        self.client = TestClient(create_app(self.container))
        self.client.__enter__()
        self.accounts: dict[str, Account] = {}
        self.failures: dict[str, int] = {}  # failed sign-ins per e-mail (one client address)
        self.families: dict[str, Family] = {}  # every refresh token ever issued -> its family
        self.access_family: dict[str, Family] = {}

    def teardown(self) -> None:
        self.client.__exit__(None, None, None)
        self.container.close()
        if self.schemas:
            self.schemas.drop()
        self.tmp.cleanup()

    def _signed_in(self, email: str, tokens: dict[str, str]) -> tuple[str, str]:
        account = self.accounts[email]
        family = Family(account=account, current=tokens["refresh"])
        account.families.append(family)
        self.families[tokens["refresh"]] = family
        self.access_family[tokens["access"]] = family
        return tokens["refresh"], tokens["access"]

    @rule(target=refresh_tokens, email=EMAILS, password=PASSWORDS)
    def register(self, email: str, password: str) -> Any:
        response = self.client.post(
            "/api/v1/auth/register/", json={"email": email, "password": password}
        )
        account = self.accounts.get(email)
        if account is not None and not account.deleted:
            assert response.status_code == 400
            return "never-issued"
        assert response.status_code == 201, response.text
        self.accounts[email] = Account(password=password, history=[password])
        refresh, _ = self._signed_in(email, response.json()["data"]["tokens"])
        return refresh

    @rule(target=refresh_tokens, email=EMAILS, password=PASSWORDS)
    def log_in(self, email: str, password: str) -> Any:
        response = self.client.post(
            "/api/v1/auth/login/", json={"email": email, "password": password}
        )
        account = self.accounts.get(email)
        if self.failures.get(email, 0) >= MAX_FAILURES:
            assert response.status_code == 429
            return "never-issued"
        if account is None or account.deleted or account.password != password:
            assert response.status_code == 401
            self.failures[email] = self.failures.get(email, 0) + 1
            return "never-issued"
        assert response.status_code == 200, response.text
        self.failures[email] = 0
        refresh, _ = self._signed_in(email, response.json()["data"]["tokens"])
        return refresh

    @rule(target=refresh_tokens, token=refresh_tokens)
    def refresh(self, token: str) -> Any:
        response = self.client.post("/api/v1/auth/refresh/", json={"refresh": token})
        family = self.families.get(token)
        if family is None or family.revoked or family.account.deleted:
            assert response.status_code == 401
            return "never-issued"
        if token != family.current:  # reuse of a rotated token: the family dies
            assert response.status_code == 401
            family.revoked = True
            return "never-issued"
        assert response.status_code == 200, response.text
        body = response.json()
        family.current = body["refresh"]
        self.families[body["refresh"]] = family
        self.access_family[body["access"]] = family
        return body["refresh"]

    @rule(token=refresh_tokens)
    def log_out(self, token: str) -> None:
        family = self.families.get(token)
        if family is None or family.account.deleted:
            return
        access = self._fresh_access(family.account)
        if access is None:
            return
        response = self.client.post(
            "/api/v1/auth/logout/",
            json={"refresh": token},
            headers={"Authorization": f"Bearer {access}"},
        )
        assert response.status_code == 200, response.text
        family.revoked = True

    @rule(email=EMAILS, password=PASSWORDS)
    def change_password(self, email: str, password: str) -> None:
        account = self.accounts.get(email)
        if account is None or account.deleted:
            return
        access = self._fresh_access(account)
        if access is None:
            return
        response = self.client.post(
            "/api/v1/auth/password/change/",
            headers={"Authorization": f"Bearer {access}"},
            json={"old_password": account.password, "new_password": password},
        )
        if password in account.history[:5]:
            assert response.status_code == 400
        else:
            assert response.status_code == 200, response.text
            account.password = password
            account.history.insert(0, password)

    @rule(email=EMAILS)
    def delete_account(self, email: str) -> None:
        account = self.accounts.get(email)
        if account is None or account.deleted:
            return
        access = self._fresh_access(account)
        if access is None:
            return
        response = self.client.post(
            "/api/v1/auth/account/delete/",
            headers={"Authorization": f"Bearer {access}"},
            json={"password": account.password},
        )
        assert response.status_code == 200, response.text
        account.deleted = True

    def _fresh_access(self, account: Account) -> str | None:
        """An access token of a live family of this user, by refreshing it (as the app does)."""
        for family in account.families:
            if not family.revoked:
                response = self.client.post(
                    "/api/v1/auth/refresh/", json={"refresh": family.current}
                )
                assert response.status_code == 200, response.text
                family.current = response.json()["refresh"]
                self.families[family.current] = family
                self.access_family[response.json()["access"]] = family
                return str(response.json()["access"])
        return None

    @invariant()
    def access_tokens_work_exactly_for_live_accounts_and_sign_ins(self) -> None:
        for access, family in list(self.access_family.items())[-5:]:
            response = self.client.get(
                "/api/v1/auth/me/", headers={"Authorization": f"Bearer {access}"}
            )
            expected = 401 if family.account.deleted or family.revoked else 200
            assert response.status_code == expected, response.text


class PostgresAuthLifecycle(AuthLifecycle):
    backend = "postgres"


def test_token_lifecycle_on_sqlite() -> None:
    AuthLifecycle.TestCase.settings = settings(
        max_examples=40,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    AuthLifecycle.TestCase().runTest()


def test_token_lifecycle_on_postgres() -> None:
    require_postgres()
    require_redis()
    PostgresAuthLifecycle.TestCase.settings = settings(
        max_examples=10,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    PostgresAuthLifecycle.TestCase().runTest()
