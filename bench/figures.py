"""A measured figure beside its target, and the one way the bench prints them."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """``value`` against ``target``: ``at_least`` (throughput ratios) or not (latencies, memory)."""

    name: str
    value: float
    unit: str
    target: float | None = None
    at_least: bool = True
    detail: str = ""

    @property
    def ratio(self) -> float | None:
        if self.target is None or self.target == 0:
            return None
        return self.value / self.target

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.at_least else self.value < self.target

    def line(self) -> str:
        value = f"{self.value:,.2f}" if abs(self.value) < 100 else f"{self.value:,.0f}"
        text = f"  {self.name:<58} {value:>10} {self.unit:<6}"
        if self.target is not None:
            sign = ">=" if self.at_least else "<"
            verdict = "met" if self.met else "NOT MET"
            text += f" target {sign} {self.target:g} {self.unit:<5} ratio {self.ratio:5.2f}  {verdict}"
        if self.detail:
            text += f"  ({self.detail})"
        return text


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def report(title: str, figures: list[Figure]) -> None:
    print(f"== {title} ==")
    for figure in figures:
        print(figure.line())
