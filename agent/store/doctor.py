"""`coach doctor`: is the index whole, is the store consistent, and repair what can be repaired safely."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agent.core.homes import expand
from agent.store.checks import Check


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


def run_doctor(settings: Any, *, repair: bool = False, index_path: Path | None = None) -> DoctorReport:
    """Check (and with repair, fix) the index at index_path or settings.index_dir, then the session store."""
    from agent.store.doctor_index import check_index
    from agent.store.doctor_store import check_store

    started = time.perf_counter()
    report = DoctorReport(repair=repair)
    root = expand(index_path or settings.index_dir)
    report.checks += check_index(settings, root, repair)
    report.checks += check_store(settings, repair)
    report.seconds = time.perf_counter() - started
    return report
