"""A real OpenID Connect provider on loopback for the single sign-on tests: oidc-provider-mock
(authlib's provider side in a Flask app), which signs ID tokens with its own key, publishes
discovery and keys, and shows an authorisation form a browser fills in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import oidc_provider_mock

from vigil.settings import Settings

CLIENT_ID = "vigil-tests"
CLIENT_SECRET = "a-client-secret-the-provider-accepts"
# Groups as a force's and a probation region's directories might name them.
GROUP_ROLES = (
    "wmp-domestic-abuse=police:WMP,"
    "vigil-monitoring-centre=monitoring_operator,"
    "leeds-probation=probation_officer:1,"
    "vigil-analysts=analyst"
)


@dataclass(frozen=True)
class Provider:
    issuer: str

    def person(self, sub: str, **claims: object) -> None:
        """What the provider will say about ``sub`` when they sign in."""
        response = httpx.put(f"{self.issuer}/users/{quote(sub)}", json=claims, timeout=10)
        response.raise_for_status()

    def settings(self, base: Settings, public_base_url: str) -> Settings:
        return base.model_copy(
            update={
                "oidc_issuer": self.issuer,
                "oidc_client_id": CLIENT_ID,
                "oidc_client_secret": CLIENT_SECRET,
                "oidc_provider_name": "your force account",
                "oidc_group_roles": GROUP_ROLES,
                "public_base_url": public_base_url,
            }
        )


@contextmanager
def running_provider() -> Iterator[Provider]:
    # The provider names itself after the address it is asked on: always 127.0.0.1 here.
    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as server:
        yield Provider(f"http://127.0.0.1:{server.server_port}")
