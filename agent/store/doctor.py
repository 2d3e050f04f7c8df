"""`coach doctor`: is the index whole, is the store consistent, and repair what can be repaired safely."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["ok", "repaired", "problem"]


@dataclass
class Check:
    """One check's verdict: ok, repaired (it was broken and now is not) or problem (still broken)."""

    name: str
    status: Status
    detail: str

    def line(self) -> str:
        return f"{self.status:<8}  {self.name:<18}  {self.detail}"


@dataclass
class DoctorReport:
    """Every check in the order run, whether --repair was on, and how long it all took."""

    checks: list[Check] = field(default_factory=list)
    repair: bool = False
    seconds: float = 0.0

    @property
    def healthy(self) -> bool:
        return all(c.status != "problem" for c in self.checks)

    def by_name(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def to_json(self) -> str:
        return json.dumps({"healthy": self.healthy, "repair": self.repair, "seconds": round(self.seconds, 3),
                           "checks": [asdict(c) for c in self.checks]}, indent=2, ensure_ascii=False)


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


def run_doctor(settings: Any, *, repair: bool = False, index_path: Path | None = None) -> DoctorReport:
    """Check (and with repair, fix) the index at index_path or settings.index_dir, then the session store."""
    from agent.store.doctor_index import check_index
    from agent.store.doctor_store import check_store

    started = time.perf_counter()
    report = DoctorReport(repair=repair)
    root = Path(index_path or settings.index_dir).expanduser()
    report.checks += check_index(settings, root, repair)
    report.checks += check_store(settings, repair)
    report.seconds = time.perf_counter() - started
    return report
