"""Security headers on every response (a plain ASGI middleware, so streamed answers such as the
alert stream are not buffered).

* ``Cache-Control: no-store`` on everything but static files: pages and API answers carry
  victims' details, wearers' trails and addresses, which must not stay in a shared computer's
  cache or a proxy's.
* A strict Content-Security-Policy: scripts only from Vigil itself (no inline script, no
  ``eval``), nothing may frame the app (``frame-ancestors 'none'``, and ``X-Frame-Options`` for
  older browsers), forms post only to Vigil. Inline *styles* stay allowed: the print views of
  evidence packs carry their own ``<style>`` and maps are SVG with style attributes. Images come
  from Vigil, ``data:`` (tiles inside server-drawn maps) and the street tile server, if any.
* ``Secure`` on every cookie whenever ``Settings.cookies_secure`` (always in production).
* ``Referrer-Policy: same-origin`` (a person's id in a URL never leaves in a Referer),
  ``X-Content-Type-Options: nosniff``, and HSTS outside development.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(tile_origin: str | None = None) -> str:
    """The policy; images also from the street tile server when one is configured (its origin
    alone: the maps' tiles, nothing else from anywhere else)."""
    images = "img-src 'self' data:" + (f" {tile_origin}" if tile_origin else "")
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            images,
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


HSTS = "max-age=31536000; includeSubDomains"
STATIC_PREFIXES = ("/static/", "/assets/")
# The interactive API reference (not served in production) loads its viewer from a CDN.
API_REFERENCE = frozenset({"/docs", "/docs/oauth2-redirect"})


class SecurityHeaders:
    def __init__(
        self, app: ASGIApp, *, hsts: bool, secure_cookies: bool, tile_origin: str | None = None
    ) -> None:
        self.app = app
        self.hsts = hsts
        self.secure_cookies = secure_cookies
        self.csp = content_security_policy(tile_origin).encode()

    def _cookie(self, value: bytes) -> bytes:
        # Every cookie (session, CSRF, the public form's draft) is Secure whenever the settings
        # say so: always in production, so none can leak over plain http.
        if self.secure_cookies and b"secure" not in value.lower():
            return value + b"; Secure"
        return value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        static = path.startswith(STATIC_PREFIXES)
        csp = path not in API_REFERENCE

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, self._cookie(value) if name.lower() == b"set-cookie" else value)
                    for name, value in message.get("headers", [])
                    if static or name.lower() != b"cache-control"
                ]
                if csp:
                    headers.append((b"content-security-policy", self.csp))
                headers += [
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                if self.hsts:
                    headers.append((b"strict-transport-security", HSTS.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
