"""Password policy and argon2id hashing."""

from __future__ import annotations

import functools
import gzip
import itertools
import unicodedata
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from portal.errors import Message

MIN_LENGTH = 12
MAX_LENGTH = 256
# Runs a person types without thinking, read cyclically (so "1234567890" and "123456789012" are runs too)
# and in either direction: the alphabet, the digits, and the letter rows of a QWERTY keyboard end to end.
SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm")
_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp"}  # controls, format characters (zero-width space...), separators


class PasswordPolicyError(ValueError):
    pass


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords (Royce Williams' list, as shipped by Django), lower-cased."""
    data = resources.files("portal.security").joinpath("common_passwords.txt.gz").read_bytes()
    return frozenset(line.strip().lower() for line in gzip.decompress(data).decode().splitlines() if line.strip())


def _is_run(text: str) -> bool:
    for sequence in SEQUENCES:
        if all(char in sequence for char in text):
            steps = {(sequence.index(b) - sequence.index(a)) % len(sequence) for a, b in itertools.pairwise(text)}
            if steps in ({1}, {len(sequence) - 1}):
                return True
    return False


def check_policy(password: str, *, email: str = "") -> None:
    visible = "".join(char for char in password if unicodedata.category(char) not in _INVISIBLE).lower()
    if not visible:
        raise PasswordPolicyError("password must not be blank or only invisible characters")
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(Message("password must be at least %(n)s characters", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(Message("password must be at most %(n)s characters", n=MAX_LENGTH))
    if password.lower() in common_passwords():
        raise PasswordPolicyError("password is one of the most common passwords")
    if email and password.lower() == email.lower():
        raise PasswordPolicyError("password must not be the email address")
    if len(set(visible)) == 1:
        raise PasswordPolicyError("password must not be one character repeated")
    if _is_run(visible):
        raise PasswordPolicyError("password must not be a run of consecutive characters or keys")


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
