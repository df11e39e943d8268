"""Signed provider attestations: keys, tokens, status lists, a transparency log, certificates, a verifier.

A standalone library: it imports nothing from the portal, the web framework or the database. Modules:

- ``keys`` / ``keystore``: Ed25519 keys per purpose, RFC 7638 key ids, encrypted storage, JWKS.
- ``tokens``: the typed claims of an attestation and the signer (compact JWS, ``attestation+jwt``).
- ``verify``: the numbered verification checklist; failures raise ``errors.VerificationError``.
- ``policy``: what the verifier expects: ``ExpectedIssuer(url)`` or, loudly, ``UnsafeAnyIssuer()``.
- ``status_list``: IETF Token Status List (revoked / suspended), signed ``statuslist+jwt``.
- ``merkle`` / ``checkpoint`` / ``log_proof``: RFC 6962 log, C2SP signed checkpoints, offline proofs.
- ``replay`` / ``monitor``: a third party's monitor of a portal's log over HTTP (``portal monitor``).
- ``certificate``: the bilingual PDF certificate with the token attached.
- ``cli``: ``python -m attestations verify TOKEN_OR_FILE --jwks FILE --issuer URL``.
"""
