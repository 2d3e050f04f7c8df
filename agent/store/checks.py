"""One doctor check's verdict (ok, repaired, problem) and the helpers every check uses to give one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "repaired", "problem"]


@dataclass
class Check:
    """One check's verdict: ok, repaired (it was broken and now is not) or problem (still broken)."""

    name: str
    status: Status
    detail: str

    def line(self) -> str:
        return f"{self.status:<8}  {self.name:<18}  {self.detail}"


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def problem(name: str, detail: str) -> Check:
    return Check(name, "problem", detail)


def repaired(name: str, detail: str) -> Check:
    return Check(name, "repaired", detail)


def one_line(exc: BaseException) -> str:
    """An exception as one short line, for a check's detail."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
