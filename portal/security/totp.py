"""TOTP second factor (RFC 6238) with single-use codes."""

from __future__ import annotations

import time

import pyotp

STEP_SECONDS = 30


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str, issuer: str = "Provider Attestation Portal") -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def accepted_step(secret: str, code: str, last_step: int, now: float | None = None) -> int | None:
    """Return the time step ``code`` belongs to, if valid and newer than ``last_step``; else None.

    One step of clock drift is tolerated either way. Storing the returned step makes each code single-use.
    """
    code = code.strip().replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    now = time.time() if now is None else now
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if step > last_step and pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None
