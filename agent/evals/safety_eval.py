"""Scores the input guardrails on red-team and ordinary messages: recall per category, false alarms, misses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from agent.errors import ConfigError

Split = Literal["dev", "heldout"]
RISK_CATEGORIES = ("crisis", "harassment", "discrimination", "legal", "medical", "injection", "off_topic")


class SafetyCase(BaseModel):
    """One message (and optionally a retrieved passage) with the category the guardrails should give it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    message: str
    expect: Literal["ok", "crisis", "harassment", "discrimination", "legal", "medical", "injection", "off_topic"] = "ok"
    note: str = ""
    document: str | None = None  # placed into the retrieved passages; the case is about this text
    split: Split = "dev"


class _CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cases: list[SafetyCase]


def load_cases(path: Path) -> list[SafetyCase]:
    """Validated cases from a YAML file; a broken file is one ConfigError line."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        cases = _CaseFile.model_validate(data).cases
    except FileNotFoundError:
        raise ConfigError(f"safety cases: {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"safety cases: {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"safety cases: {Path(path).name}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    ids = [c.id for c in cases]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"safety cases: {Path(path).name}: duplicate ids {', '.join(dupes)}")
    return cases


def classify(case: SafetyCase) -> dict[str, Any]:
    """What the guardrails decide for a case; document cases must also come out of neutralize() clean."""
    from agent.guardrails import check_document, check_input, neutralize

    safety = check_input(case.message)
    defanged = True
    if case.document is not None:
        if safety.category == "ok":
            safety = check_document(case.document)
        defanged = check_document(neutralize(case.document)).category == "ok"
    return {"got": safety.category, "action": safety.action, "reason": safety.reason, "defanged": defanged}


def _score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    risky = [r for r in rows if r["file"] == "redteam"]
    ordinary = [r for r in rows if r["file"] == "ordinary"]
    recall = {}
    support = {}
    for cat in RISK_CATEGORIES:
        mine = [r for r in risky if r["expect"] == cat]
        support[cat] = len(mine)
        if mine:
            recall[cat] = sum(r["passed"] for r in mine) / len(mine)
    false_alarms = [r for r in ordinary if r["got"] != "ok"]
    return {
        "recall": recall,
        "support": support,
        "accuracy": sum(r["passed"] for r in rows) / len(rows) if rows else 0.0,
        "false_alarm_rate": len(false_alarms) / len(ordinary) if ordinary else 0.0,
        "n_redteam": len(risky),
        "n_ordinary": len(ordinary),
    }


def evaluate(redteam_path: Path | None = None, ordinary_path: Path | None = None,
             evals_root: Path | None = None) -> dict[str, Any]:
    """Run every case through the guardrails; overall and per split (dev, heldout) figures, and the misses."""
    if redteam_path is None or ordinary_path is None:
        from agent.resources import evals_dir

        base = Path(evals_root or evals_dir()) / "safety"
        redteam_path = redteam_path or base / "redteam.yaml"
        ordinary_path = ordinary_path or base / "ordinary.yaml"
    rows: list[dict[str, Any]] = []
    for name, path in (("redteam", redteam_path), ("ordinary", ordinary_path)):
        for case in load_cases(Path(path)):
            expect = case.expect if name == "redteam" else "ok"
            got = classify(case)
            passed = got["got"] == expect and got["defanged"]
            rows.append({"id": case.id, "file": name, "split": case.split, "expect": expect, "passed": passed,
                         "message": case.message, "note": case.note, **got})
    overall = _score(rows)
    splits = {s: _score([r for r in rows if r["split"] == s]) for s in ("dev", "heldout")}
    metrics = {"accuracy": overall["accuracy"], "false_alarm_rate": overall["false_alarm_rate"],
               **{f"recall_{c}": v for c, v in overall["recall"].items()}}
    for s, score in splits.items():
        if score["n_redteam"] or score["n_ordinary"]:
            metrics[f"{s}_accuracy"] = score["accuracy"]
            metrics[f"{s}_false_alarm_rate"] = score["false_alarm_rate"]
    misses = [{k: r[k] for k in ("id", "file", "split", "expect", "got", "reason", "message")}
              for r in rows if not r["passed"]]
    cases = [{"id": r["id"], "passed": r["passed"], "expect": r["expect"], "got": r["got"],
              "detail": "" if r["passed"] else f"expected {r['expect']}, got {r['got']} ({r['reason'] or 'no rule'})"
              + ("" if r["defanged"] else "; neutralize() left the instruction in")} for r in rows]
    return {**overall, "splits": splits, "metrics": metrics, "misclassified": misses, "cases": cases}


if __name__ == "__main__":
    result = evaluate()
    print(json.dumps({k: v for k, v in result.items() if k != "cases"}, indent=2))
