"""Errors raised by the ``controls`` library: one root type, one error per bad catalog."""

from __future__ import annotations


class ControlsError(Exception):
    """Root of every error the ``controls`` library raises on purpose."""


class CatalogError(ControlsError):
    """A catalog file or document is malformed or breaks a catalog rule.

    ``source`` names the file (or other origin) of the document, ``path`` locates the problem inside it
    (a JSON path such as ``$.controls[12].family``, or ``line 3, column 5`` for a syntax error) and
    ``problem`` says what is wrong. ``str(error)`` reads ``"source: path: problem"``.
    """

    def __init__(self, problem: str, *, source: str, path: str = "$") -> None:
        self.source = source
        self.path = path
        self.problem = problem
        super().__init__(f"{source}: {path}: {problem}")

    def __str__(self) -> str:
        return f"{self.source}: {self.path}: {self.problem}"
