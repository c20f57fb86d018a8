"""Single sign-on by OpenID Connect against a real provider on loopback: the provider's groups
decide the role and its scope at every sign-in, nobody gets in on a guess, and an answer meant
for another browser, a forged ID token or a provider that is down never opens a session."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select

from tests.conftest import csrf_from, make_settings
from tests.security.oidc_provider import CLIENT_ID, Provider, running_provider
from vigil.bootstrap import Container, build_container
from vigil.clock import FrozenClock
from vigil.errors import ValidationError
from vigil.security import oidc, single_sign_on
from vigil.security.model import Role
from vigil.security.tables import audit_log, users
from vigil.web.app import create_app

# A plain-http loopback address, so the test client sends cookies not marked Secure.
PUBLIC_URL = "http://localhost"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture
def sso(db_url: str, clock: FrozenClock, provider: Provider) -> Iterator[Container]:
    built = build_container(provider.settings(make_settings(db_url), PUBLIC_URL), clock=clock)
    yield built
    built.engine.dispose()


@pytest.fixture
def browser_client(sso: Container) -> Iterator[TestClient]:
    with TestClient(create_app(sso), base_url=PUBLIC_URL) as client:
        yield client


def sign_in_at_provider(client: TestClient, sub: str, next: str = "/") -> httpx.Response:
    """Press "Sign in with …", authorise as ``sub`` on the provider's form, come back."""
    leave = client.get("/login/sso", params={"next": next}, follow_redirects=False)
    assert leave.status_code == 303
    at_provider = httpx.post(leave.headers["location"], data={"sub": sub}, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["location"])
    assert f"{back.scheme}://{back.netloc}" == PUBLIC_URL
    return client.get(f"{back.path}?{back.query}", follow_redirects=False)


def _actions(container: Container) -> list[tuple[str, str]]:
    with container.engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.action, audit_log.c.detail)).all()
    return [(row.action, str(row.detail)) for row in rows]


def test_the_login_page_offers_the_provider_by_name(browser_client: TestClient) -> None:
    page = browser_client.get("/login?next=/caseload")
    assert "Sign in with your force account" in page.text
    assert 'href="/login/sso?next=/caseload"' in page.text


def test_a_force_group_signs_in_as_police_of_that_force(
    browser_client: TestClient, sso: Container, provider: Provider
) -> None:
    provider.person(
        "pc-4411",
        name="PC Amy Shaw",
        preferred_username="amy.shaw",
        email="amy.shaw@police.example",
        groups=["wmp-domestic-abuse", "all-staff"],
        amr=["pwd", "otp"],
    )
    back = sign_in_at_provider(browser_client, "pc-4411", next="/caseload")
    assert back.status_code == 303
    assert back.headers["location"] == "/caseload"
    me = browser_client.get("/api/me").json()
    assert (me["role"], me["force_area"], me["name"]) == ("police", "WMP", "sso-amy.shaw")
    actions = _actions(sso)
    assert any(a == "login.success" and "single_sign_on" in d for a, d in actions)


def test_groups_are_read_afresh_at_every_sign_in(
    browser_client: TestClient, sso: Container, provider: Provider
) -> None:
    provider.person("sam", preferred_username="sam", groups=["vigil-analysts"])
    sign_in_at_provider(browser_client, "sam")
    assert browser_client.get("/api/me").json()["role"] == "analyst"
    browser_client.post("/logout", data={"csrf_token": csrf_from(browser_client.get("/").text)})
    # Moved to the monitoring centre at the provider: the same Vigil user, the new role.
    provider.person("sam", preferred_username="sam", groups=["vigil-monitoring-centre"])
    sign_in_at_provider(browser_client, "sam")
    me = browser_client.get("/api/me").json()
    assert me["role"] == "monitoring_operator"
    with sso.engine.connect() as conn:
        named = select(users.c.id).where(users.c.username.like("sso-sam%"))
        assert len(conn.execute(named).all()) == 1


@pytest.mark.parametrize(
    ("groups", "told"),
    [
        (["all-staff"], "not in a group that may use Vigil"),
        (["vigil-analysts", "wmp-domestic-abuse"], "more than one Vigil role"),
        ([], "not in a group that may use Vigil"),
    ],
    ids=["no mapped group", "two roles", "no groups"],
)
def test_nobody_gets_in_on_a_guess(
    browser_client: TestClient, sso: Container, provider: Provider, groups: list[str], told: str
) -> None:
    provider.person("guess", groups=groups)
    back = sign_in_at_provider(browser_client, "guess")
    assert back.status_code == 403
    assert told in back.text
    assert browser_client.get("/api/me").status_code == 401
    assert any(a == "login.failure" and "single_sign_on" in d for a, d in _actions(sso))


def test_an_answer_for_another_browser_opens_no_session(
    browser_client: TestClient, sso: Container, provider: Provider
) -> None:
    provider.person("pc-1", groups=["wmp-domestic-abuse"])
    leave = browser_client.get("/login/sso", follow_redirects=False)
    at_provider = httpx.post(leave.headers["location"], data={"sub": "pc-1"}, timeout=10)
    back = urlsplit(at_provider.headers["location"])
    # An attacker's browser holds the code but not the victim's sealed state cookie.
    with TestClient(create_app(sso), base_url=PUBLIC_URL) as other:
        answer = other.get(f"{back.path}?{back.query}", follow_redirects=False)
        assert answer.status_code == 400
        assert "not started here" in answer.text
        assert other.get("/api/me").status_code == 401
    # And this browser with a state it did not send is refused too.
    forged = browser_client.get(
        "/login/sso/callback", params={"code": "x", "state": "forged"}, follow_redirects=False
    )
    assert forged.status_code == 400


def test_a_refusal_at_the_provider_is_told_plainly(browser_client: TestClient) -> None:
    leave = browser_client.get("/login/sso", follow_redirects=False)
    at_provider = httpx.post(leave.headers["location"], data={"action": "deny"}, timeout=10)
    back = urlsplit(at_provider.headers["location"])
    answer = browser_client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert answer.status_code == 400
    assert "cancelled or refused" in answer.text


def test_a_single_sign_on_user_has_no_password(
    browser_client: TestClient, sso: Container, provider: Provider
) -> None:
    provider.person("nopass", preferred_username="nopass", groups=["vigil-analysts"])
    sign_in_at_provider(browser_client, "nopass")
    with TestClient(create_app(sso), base_url=PUBLIC_URL) as other:
        token = csrf_from(other.get("/login").text)
        for password in ("", "!single-sign-on", single_sign_on.SIGN_ON_ONLY_HASH):
            refused = other.post(
                "/login",
                data={"username": "sso-nopass", "password": password, "csrf_token": token},
                follow_redirects=False,
            )
            assert refused.status_code == 400


def test_an_id_token_signed_by_another_key_is_refused(sso: Container) -> None:
    assert sso.identity_provider is not None
    client = sso.identity_provider.client
    stranger = RSAKey.generate_key(2048)
    forged = jwt.encode(
        {"alg": "RS256"},
        {"iss": client.issuer, "aud": CLIENT_ID, "sub": "admin", "nonce": "n", "exp": 2**40},
        stranger,
    )
    with pytest.raises(oidc.ProviderError, match="refused"):
        client._claims(forged, "n")


def test_a_provider_that_is_down_gets_a_clear_answer(db_url: str, clock: FrozenClock) -> None:
    down = Provider("http://127.0.0.1:9")  # the discard port: nothing answers
    container = build_container(down.settings(make_settings(db_url), PUBLIC_URL), clock=clock)
    with TestClient(create_app(container), base_url=PUBLIC_URL) as client:
        answer = client.get("/login/sso", follow_redirects=False)
    container.engine.dispose()
    assert answer.status_code == 503
    assert "could not reach your force account" in answer.text


def _identity(groups: tuple[str, ...], methods: tuple[str, ...]) -> oidc.ProviderIdentity:
    return oidc.ProviderIdentity(
        issuer="https://login.example",
        subject="s-1",
        name="Officer",
        email="",
        preferred_username="officer",
        groups=groups,
        methods=methods,
    )


@pytest.mark.parametrize(
    ("methods", "admitted"),
    [((), False), (("pwd",), False), (("mfa",), True), (("pwd", "otp"), True)],
)
def test_production_needs_the_providers_second_factor_for_roles_that_see_victims(
    container: Container, methods: tuple[str, ...], admitted: bool
) -> None:
    mapping = single_sign_on.parse_group_roles("police-wmp=police:WMP,analysts=analyst")
    with container.uow() as uow:
        police = _identity(("police-wmp",), methods)
        if admitted:
            single_sign_on.sign_in_with_provider(
                uow, police, mapping, second_factor_required=True, client="t"
            )
        else:
            with pytest.raises(single_sign_on.SingleSignOnRefused, match="second factor"):
                single_sign_on.sign_in_with_provider(
                    uow, police, mapping, second_factor_required=True, client="t"
                )
    with container.uow() as uow:
        # An analyst sees neither victims' details nor trails: the provider's password suffices.
        analyst = _identity(("analysts",), ("pwd",))
        session = single_sign_on.sign_in_with_provider(
            uow, analyst, mapping, second_factor_required=True, client="t"
        )
        uow.commit()
    assert session.principal.role is Role.ANALYST


@pytest.mark.parametrize(
    "text",
    [
        "wmp=police",  # a police user needs a force area
        "wmp=police:XYZ",  # one Vigil knows
        "leeds=probation_officer",  # a probation officer needs a team
        "gateways=device_gateway",  # machines do not sign in
        "=analyst",
        "analysts",
        "x=no_such_role",
    ],
)
def test_a_group_mapping_that_cannot_be_read_stops_the_start_up(text: str) -> None:
    with pytest.raises(ValidationError, match="VIGIL_OIDC_GROUP_ROLES"):
        single_sign_on.parse_group_roles(text)
