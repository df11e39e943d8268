"""Invitation secrets are redacted from every logged path."""

from __future__ import annotations

import logging

import pytest

from portal.security.redact import SecretPathFilter, loggable_path


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/api/v1/invitations/s3cr3t-Value_x/accept", "/api/v1/invitations/[redacted]/accept"),
        ("/invitations/s3cr3t-Value_x", "/invitations/[redacted]"),
        ("/invitations/s3cr3t?lang=ar", "/invitations/[redacted]?lang=ar"),
        ("/api/v1/invitations/accept", "/api/v1/invitations/accept"),  # the secret is in the body there
        ("/api/v1/invitations/accepted/accept", "/api/v1/invitations/[redacted]/accept"),
        ("/invitations", "/invitations"),
        ("/api/v1/organisations/1/members", "/api/v1/organisations/1/members"),
        ("/static/invitations/x.js", "/static/invitations/x.js"),
    ],
)
def test_loggable_path(path: str, logged: str) -> None:
    assert loggable_path(path) == logged


def test_the_access_log_filter_rewrites_uvicorns_path_argument() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/api/v1/invitations/abc123/accept", "1.1", 404),
        None,
    )
    assert SecretPathFilter().filter(record) is True
    assert record.getMessage() == '127.0.0.1:5000 - "POST /api/v1/invitations/[redacted]/accept HTTP/1.1" 404'
    other = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "plain %s", ("x",), None)
    assert SecretPathFilter().filter(other) is True and other.getMessage() == "plain x"
