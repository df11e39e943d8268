"""Password policy and argon2id hashing."""

from __future__ import annotations

import functools
import gzip
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256


class PasswordPolicyError(ValueError):
    pass


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords (Royce Williams' list, as shipped by Django), lower-cased."""
    data = resources.files("portal.security").joinpath("common_passwords.txt.gz").read_bytes()
    return frozenset(line.strip().lower() for line in gzip.decompress(data).decode().splitlines() if line.strip())


def check_policy(password: str, *, email: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"password must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"password must be at most {MAX_LENGTH} characters")
    if password.lower() in common_passwords():
        raise PasswordPolicyError("password is one of the most common passwords")
    if email and password.lower() == email.lower():
        raise PasswordPolicyError("password must not be the email address")


class PasswordHashing:
    """argon2id with the cost from settings; a dummy hash keeps unknown accounts as slow as known ones."""

    def __init__(self, *, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID)
        self._dummy = self._hasher.hash("not a real password, only for timing")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)
