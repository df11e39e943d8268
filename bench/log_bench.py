"""Kept for ``bench/__main__.py``: the transparency log benchmark now lives in ``bench/log.py``."""

from bench.log import measure, report, run

__all__ = ["measure", "report", "run"]
