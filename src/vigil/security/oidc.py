"""OpenID Connect, the relying party's side: send a person to their organisation's identity
provider, and read who they are from the ID token it returns.

The authorization code flow with PKCE, a ``state`` that ties the answer to the browser that
asked, and a ``nonce`` that ties the ID token to this sign-in. The ID token's signature is checked
against the provider's published keys, and its issuer, audience, expiry and nonce against what
we expect, even though it came straight from the token endpoint over TLS: a provider that is
misconfigured or impersonated must not be able to sign anyone in. Networking and JOSE are
authlib's and joserfc's; what to trust is decided here.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from vigil.settings import Settings

# Discovery documents and keys change rarely; a provider rotating its keys publishes the new one
# before signing with it, so an hour's cache with one refetch on an unknown key is enough.
_CACHE_SECONDS = 3600.0
_TIMEOUT_SECONDS = 10.0
_CLOCK_LEEWAY_SECONDS = 60
_SIGNING_ALGORITHMS = ["RS256", "PS256", "ES256"]


class ProviderError(Exception):
    """The provider could not be reached, or answered something we cannot trust."""


@dataclass(frozen=True)
class PendingSignIn:
    """What the browser carries (sealed) to the provider and back."""

    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says signed in, from a checked ID token."""

    issuer: str
    subject: str
    name: str
    email: str
    preferred_username: str
    groups: tuple[str, ...]
    methods: tuple[str, ...]
    """The ``amr`` claim: how the person proved who they are (``pwd``, ``otp``, ``mfa`` …)."""

    @property
    def multi_factor(self) -> bool:
        # RFC 8176: "mfa" says so outright; two different methods say so too.
        return "mfa" in self.methods or len(set(self.methods) - {"mfa"}) >= 2


@dataclass(frozen=True)
class _Metadata:
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class OidcClient:
    """One identity provider, as the settings name it. Thread-safe: pages run in a pool."""

    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.oidc_issuer.rstrip("/")
        self._client_id = settings.oidc_client_id
        self._client_secret = settings.oidc_client_secret
        self._groups_claim = settings.oidc_groups_claim
        self.redirect_uri = settings.public_base_url.rstrip("/") + "/login/sso/callback"
        self._lock = threading.Lock()
        self._metadata: tuple[float, _Metadata] | None = None
        self._keys: tuple[float, KeySet] | None = None

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=_TIMEOUT_SECONDS, follow_redirects=False)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(f"{url}: {exc}") from exc
        if not isinstance(body, dict):
            raise ProviderError(f"{url}: not a JSON object")
        return body

    def _discover(self) -> _Metadata:
        with self._lock:
            if self._metadata and time.monotonic() - self._metadata[0] < _CACHE_SECONDS:
                return self._metadata[1]
        doc = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
        if str(doc.get("issuer", "")).rstrip("/") != self.issuer:
            raise ProviderError(f"the provider calls itself {doc.get('issuer')!r}")
        try:
            metadata = _Metadata(
                str(doc["authorization_endpoint"]), str(doc["token_endpoint"]), str(doc["jwks_uri"])
            )
        except KeyError as exc:
            raise ProviderError(f"discovery document lacks {exc}") from exc
        with self._lock:
            self._metadata = (time.monotonic(), metadata)
        return metadata

    def _key_set(self, refresh: bool = False) -> KeySet:
        with self._lock:
            if not refresh and self._keys and time.monotonic() - self._keys[0] < _CACHE_SECONDS:
                return self._keys[1]
        try:
            keys = KeySet.import_key_set(self._get_json(self._discover().jwks_uri))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError) as exc:
            raise ProviderError(f"unreadable signing keys: {exc}") from exc
        with self._lock:
            self._keys = (time.monotonic(), keys)
        return keys

    def start(self) -> tuple[str, PendingSignIn]:
        """The provider's address to send the browser to, and what to remember meanwhile."""
        pending = PendingSignIn(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            code_verifier=secrets.token_urlsafe(48),
        )
        url = add_params_to_uri(
            self._discover().authorization_endpoint,
            [
                ("response_type", "code"),
                ("client_id", self._client_id),
                ("redirect_uri", self.redirect_uri),
                ("scope", "openid profile email"),
                ("state", pending.state),
                ("nonce", pending.nonce),
                ("code_challenge", create_s256_code_challenge(pending.code_verifier)),
                ("code_challenge_method", "S256"),
            ],
        )
        return str(url), pending

    def finish(self, code: str, pending: PendingSignIn) -> ProviderIdentity:
        """Exchange the code for tokens (the client authenticates with its secret) and read the
        checked ID token."""
        try:
            response = httpx.post(
                self._discover().token_endpoint,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.redirect_uri,
                    "code_verifier": pending.code_verifier,
                },
                auth=(self._client_id, self._client_secret),
                timeout=_TIMEOUT_SECONDS,
                follow_redirects=False,
            )
            token = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(f"the token endpoint failed: {exc}") from exc
        if response.status_code != 200 or not isinstance(token, dict):
            raise ProviderError(f"the code was not accepted: {response.status_code} {token}")
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise ProviderError("the provider sent no ID token")
        return self._identity(self._claims(id_token, pending.nonce))

    def _claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(), algorithms=_SIGNING_ALGORITHMS)
            except JoseError:
                # Perhaps a key published since we last looked.
                keys = self._key_set(refresh=True)
                decoded = jwt.decode(id_token, keys, algorithms=_SIGNING_ALGORITHMS)
            # Expiry against the wall clock, as the provider that issued the token keeps it.
            jwt.JWTClaimsRegistry(
                leeway=_CLOCK_LEEWAY_SECONDS,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self._client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise ProviderError(f"the ID token was refused: {exc}") from exc
        return dict(decoded.claims)

    def _identity(self, claims: dict[str, Any]) -> ProviderIdentity:
        def text(name: str) -> str:
            value = claims.get(name)
            return value if isinstance(value, str) else ""

        def texts(name: str) -> tuple[str, ...]:
            value = claims.get(name)
            if isinstance(value, str):
                return (value,)
            if isinstance(value, list):
                return tuple(item for item in value if isinstance(item, str))
            return ()

        return ProviderIdentity(
            issuer=self.issuer,
            subject=text("sub"),
            name=text("name"),
            email=text("email"),
            preferred_username=text("preferred_username"),
            groups=texts(self._groups_claim),
            methods=texts("amr"),
        )
