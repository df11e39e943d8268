"""Security headers on every response, success or error (a before-send hook sees them all)."""

from __future__ import annotations

from litestar.types import BeforeMessageSendHookHandler, Message, Scope

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_ALWAYS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
_PRODUCTION = (("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),)


def _encoded(pairs: tuple[tuple[str, str], ...]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs]


def security_headers(production: bool) -> BeforeMessageSendHookHandler:
    # Encoded once: this runs on every response, the public status lookups' included.
    fixed = _encoded(_ALWAYS + (_PRODUCTION if production else ()))
    names = {name for name, _ in fixed}
    no_store = (b"cache-control", b"no-store")

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = [(name.lower(), value) for name, value in message.get("headers", ())]
        kept = [pair for pair in headers if pair[0] not in names]
        kept += fixed
        if scope.get("user") is not None and not any(name == b"cache-control" for name, _ in kept):
            kept.append(no_store)
        message["headers"] = kept

    return before_send
