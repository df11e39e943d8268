"""Log checkpoints in the C2SP ``tlog-checkpoint`` format, signed as C2SP ``signed-note`` with Ed25519.

A checkpoint note is::

    <origin>
    <tree size, decimal>
    <root hash, base64>
    [extension lines]

    — <key name> <base64(key id (4 bytes) || Ed25519 signature (64 bytes))>

The signature covers the note text up to and including its last newline (before the blank line). The
key id is the first 4 bytes of ``SHA-256(name || 0x0A || 0x01 || public key)`` (0x01: Ed25519).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable

import msgspec
from cryptography.exceptions import InvalidSignature as BadSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from attestations.errors import InvalidInput, InvalidSignature, KeyPurposeMismatch
from attestations.keys import KeyPurpose, Keyring, SigningKey, raw_public_bytes
from attestations.merkle import HASH_SIZE

SIGNATURE_PREFIX = "\u2014 "  # EM DASH and a space
ED25519_NOTE_TYPE = b"\x01"
MAX_NOTE_BYTES = 1_000_000


class Checkpoint(msgspec.Struct, frozen=True):
    """A signed statement of a log's size and root hash."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The note text that is signed."""
        if not self.origin or "\n" in self.origin:
            raise InvalidInput("a checkpoint origin is one non-empty line")
        if len(self.root_hash) != HASH_SIZE:
            raise InvalidInput("a checkpoint root hash is 32 bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise InvalidInput("checkpoint extension lines are non-empty single lines")
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode("ascii")]
        return "\n".join([*lines, *self.extensions]) + "\n"


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise InvalidInput(f"a note key name has no spaces and no '+': {name!r}")


def note_key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """C2SP signed-note key id of an Ed25519 key: 4 bytes."""
    material = name.encode("utf-8") + b"\n" + ED25519_NOTE_TYPE + raw_public_bytes(public_key)
    return hashlib.sha256(material).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The C2SP verifier key string ``<name>+<hex key id>+<base64(0x01 || public key)>``."""
    _check_name(name)
    encoded = base64.b64encode(ED25519_NOTE_TYPE + raw_public_bytes(public_key)).decode("ascii")
    return f"{name}+{note_key_id(name, public_key).hex()}+{encoded}"


def parse_verifier_key(vkey: str) -> tuple[str, Ed25519PublicKey]:
    """Parse a verifier key string; checks that its key id matches its key."""
    parts = vkey.strip().split("+")
    if len(parts) != 3:
        raise InvalidInput("a verifier key is <name>+<hex key id>+<base64 key>")
    name, key_id, encoded = parts
    _check_name(name)
    try:
        material = base64.b64decode(encoded, validate=True)
        expected_id = bytes.fromhex(key_id)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("the verifier key is not hex and base64") from exc
    if len(material) != 33 or material[:1] != ED25519_NOTE_TYPE:
        raise InvalidInput("the verifier key is not an Ed25519 (type 0x01) key")
    public = Ed25519PublicKey.from_public_bytes(material[1:])
    if note_key_id(name, public) != expected_id:
        raise InvalidInput("the verifier key id does not match its key")
    return name, public


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """A C2SP signed note: ``text`` (ending in a newline), a blank line, one Ed25519 signature line."""
    _check_name(name)
    if not text.endswith("\n") or "\n\n" in text:
        raise InvalidInput("note text ends with a newline and has no blank lines")
    signature = private_key.sign(text.encode("utf-8"))
    blob = base64.b64encode(note_key_id(name, private_key.public_key()) + signature).decode("ascii")
    return f"{text}\n{SIGNATURE_PREFIX}{name} {blob}\n"


def sign_checkpoint(checkpoint: Checkpoint, key: SigningKey, *, name: str | None = None) -> str:
    """The signed note of ``checkpoint``; the key name defaults to the log origin."""
    if key.purpose is not KeyPurpose.LOG:
        raise InvalidInput(f"a {key.purpose.value} key cannot sign log checkpoints")
    return sign_note(checkpoint.body(), name or checkpoint.origin, key.private)


def _split_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    if len(note.encode("utf-8")) > MAX_NOTE_BYTES:
        raise InvalidInput("the checkpoint note is too large")
    body, sep, signature_block = note.rpartition("\n\n")
    if not sep or not body:
        raise InvalidInput("the checkpoint note has no signature block (a blank line, then signatures)")
    body += "\n"
    if not signature_block.endswith("\n"):
        raise InvalidInput("the checkpoint note does not end with a newline")
    signatures: list[tuple[str, bytes, bytes]] = []
    for line in signature_block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise InvalidInput(f"not a signature line: {line[:40]!r}")
        name, _, blob = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput(f"the signature of {name!r} is not base64") from exc
        if len(raw) < 5:
            raise InvalidInput(f"the signature of {name!r} is too short")
        signatures.append((name, raw[:4], raw[4:]))
    return body, signatures


def parse_checkpoint_body(body: str) -> Checkpoint:
    """Parse the (signed) text of a checkpoint."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise InvalidInput("a checkpoint has an origin, a size and a root hash line")
    origin, size_text, root_text, *extensions = lines[:-1]
    if not (size_text.isascii() and size_text.isdigit()) or (size_text.startswith("0") and size_text != "0"):
        raise InvalidInput(f"the checkpoint size is not a decimal number: {size_text!r}")
    try:
        root_hash = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("the checkpoint root hash is not base64") from exc
    if len(root_hash) != HASH_SIZE:
        raise InvalidInput("the checkpoint root hash is not 32 bytes")
    return Checkpoint(origin=origin, size=int(size_text), root_hash=root_hash, extensions=tuple(extensions))


def _signs(
    signatures: list[tuple[str, bytes, bytes]], message: bytes, wanted: str | None, key: Ed25519PublicKey
) -> bool:
    """True if one of ``signatures`` (under the name ``wanted``, or any name) verifies with ``key``."""
    for name, key_id, signature in signatures:
        if wanted not in (None, name) or note_key_id(name, key) != key_id:
            continue
        try:
            key.verify(signature, message)
        except BadSignature:
            continue
        return True
    return False


def open_note(note: str, keys: Keyring | Iterable[tuple[str, Ed25519PublicKey]]) -> str:
    """Verify a signed note and return its text.

    ``keys`` is either a :class:`Keyring` (the portal JWKS: only its keys published for the ``log``
    purpose count, under any name) or ``(name, public key)`` pairs such as parsed verifier keys. At least
    one signature must be by a given key; signatures by unknown keys are ignored, as C2SP signed-note
    requires. A note signed only by a JWKS key of another purpose is refused with
    :class:`KeyPurposeMismatch`, naming that key.
    """
    text, signatures = _split_note(note)
    message = text.encode("utf-8")
    if not isinstance(keys, Keyring):
        if any(_signs(signatures, message, name, public) for name, public in keys):
            return text
        raise InvalidSignature("no signature on the note verifies with the given keys")
    if any(_signs(signatures, message, None, public) for _, public in keys.items(KeyPurpose.LOG)):
        return text
    log_kids = {kid for kid, _ in keys.items(KeyPurpose.LOG)}
    for kid, public in keys.items():
        if kid not in log_kids and _signs(signatures, message, None, public):
            purpose = keys.purpose_of(kid)
            has = f"a {purpose!r} key" if purpose is not None else "a key with no purpose"
            raise KeyPurposeMismatch(
                f"the checkpoint is signed by kid {kid}, {has} in the JWKS; "
                f"a checkpoint is accepted only from a key published for {KeyPurpose.LOG.value!r}"
            )
    raise InvalidSignature("no signature on the note verifies with the given keys")


def open_checkpoint(
    note: str,
    keys: Keyring | Iterable[tuple[str, Ed25519PublicKey]],
    *,
    origin: str | None = None,
) -> Checkpoint:
    """Verify a signed checkpoint (see :func:`open_note`) and return it."""
    checkpoint = parse_checkpoint_body(open_note(note, keys))
    if origin is not None and checkpoint.origin != origin:
        raise InvalidSignature(f"the checkpoint is for log {checkpoint.origin!r}, expected {origin!r}")
    return checkpoint
