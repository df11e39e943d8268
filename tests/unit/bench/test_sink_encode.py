"""The seeder's rows as PostgreSQL COPY text: tabs, newlines and backslashes escaped, None as \\N."""

from __future__ import annotations

from bench.sink import encode


def test_copy_text_escapes_what_would_end_a_field_or_a_row() -> None:
    rows = [("a\tb", "line\nnext\r", "back\\slash", None, 7), ('{"k": "v"}', "", "plain", "x", -1)]
    assert encode(rows, postgres=True) == (
        b'a\\tb\tline\\nnext\\r\tback\\\\slash\t\\N\t7\n{"k": "v"}\t\tplain\tx\t-1\n'
    )
    assert encode(iter(rows), postgres=False) == rows


def test_a_value_holding_what_marks_a_null_is_escaped_not_read_as_null() -> None:
    assert encode([("\\N", None, "a\x00b")], postgres=True) == b"\\\\N\t\\N\ta\x00b\n"
    assert encode([(None, None)], postgres=True) == b"\\N\t\\N\n"
