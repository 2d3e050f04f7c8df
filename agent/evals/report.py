"""Eval reports: report.json (read by the UI's evals page), report.md, junit.xml, and report.html."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from agent.evals.metrics import METRICS, higher_is_better
from agent.evals.orchestrate import EvalResult
from agent.evals.runner import CaseRun

SCHEMA = "socratic-coach-eval/1"
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null (browsers' JSON.parse rejects them)."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _case(c: CaseRun) -> dict[str, Any]:
    t = c.transcript
    return {
        "suite": c.suite, "id": c.case_id, "description": c.description, "target": c.target, "repeat": c.repeat,
        "passed": c.passed, "score": c.score, "error": c.error, "ms": round(c.ms, 1), "metrics": c.metrics,
        "details": c.details, "asserts": [a.model_dump() for a in c.asserts],
        "judge": {k: v.model_dump() for k, v in c.judge.items()} if c.judge else None,
        "transcript": [{"user": e.user, "reply": e.turn.reply, "phase": e.turn.phase, "situation": e.turn.situation,
                        "safety": e.turn.safety.model_dump(), "questions": e.turn.questions,
                        "citations": [{"source": x.source, "chunk": x.chunk, "title": x.title} for x in e.turn.citations],
                        "retrieved": [f"{h.chunk.source}#{h.chunk.chunk}" for h in e.hits],
                        "openers": [o.text for o in e.turn.openers],
                        "commitment": e.turn.commitment.model_dump() if e.turn.commitment else None,
                        "ms": round(e.ms, 1)} for e in t.exchanges],
        "openers": [o.model_dump(exclude={"citation"}) | {"citation": f"{o.citation.source}#{o.citation.chunk}"
                                                          if o.citation else None} for o in t.openers],
    }


def report_data(result: EvalResult) -> dict[str, Any]:
    """The JSON report: one `variants` entry per target with flat 'suite.metric' rows, plus everything behind them."""
    thresholds = result.thresholds
    gate_rows = {(g.target, g.suite, g.metric): g for g in result.gate + result.candidate_gate}
    variants: dict[str, Any] = {}
    suites: dict[str, Any] = {}
    for run in result.suites:
        rows = variants.setdefault(run.target, {"metrics": {}})["metrics"]
        for metric, value in run.metrics.items():
            bar = thresholds.get(run.suite, {}).get(metric)
            g = gate_rows.get((run.target, run.suite, metric))
            rows[f"{run.suite}.{metric}"] = {
                "value": value, "n": run.counts.get(metric), "suite": run.suite, "metric": metric,
                "label": METRICS[metric].label if metric in METRICS else metric.replace("_", " "),
                "higher_is_better": bar.higher_is_better if bar else higher_is_better(metric),
                **({"min": bar.min} if bar and bar.min is not None else {}),
                **({"max": bar.max} if bar and bar.max is not None else {}),
                **({"good": bar.good} if bar and bar.good is not None else {}),
                **({"passed": g.passed, "level": g.level} if g else {})}
        entry = suites.setdefault(run.suite, {"targets": {}})
        entry["targets"][run.target] = {"metrics": run.metrics, "counts": run.counts, "cases": len(run.cases),
                                        "passed": sum(c.passed for c in run.cases), "error": run.error,
                                        "misses_only": run.misses_only, "duration_s": round(run.duration_s, 2)}
    base = result.targets[0]
    comparison = None
    if result.options.compare:
        comparison = {"baseline": base.name, "candidate": result.options.compare.name,
                      "metrics": [d.model_dump() | {"significant": d.significant} for d in result.comparison]}
    data = {
        "schema": SCHEMA, "title": "coach eval", "created_at": result.created_at,
        "duration_s": round(result.duration_s, 2), "passed": result.passed, "provider": base.provider,
        "model": base.model, "mode": "offline" if base.provider == "offline" else (
            "record" if result.options.record else "replay"),
        "suite": ", ".join(result.options.suites), "cases": sum(len(r.cases) for r in result.runs_for(base)),
        "repeat": result.options.repeat, "judge": result.options.judge,
        "targets": [t.model_dump() | {"name": t.name, "role": "baseline" if i == 0 else "candidate"}
                    for i, t in enumerate(result.targets)],
        "variants": variants, "suites": suites,
        "thresholds": {f"{s}.{m}": b.model_dump(exclude_none=True) for s, ms in thresholds.items()
                       for m, b in ms.items()},
        "gate": [g.model_dump() for g in result.gate],
        "candidate_gate": [g.model_dump() for g in result.candidate_gate],
        "missed": [g.line() for g in result.gate if not g.passed],
        "comparison": comparison,
        "comparisons": [{"metric": f"{d.suite}.{d.metric}", **d.model_dump(exclude={"metric"})}
                        for d in result.comparison],
        "case_results": [_case(c) for r in result.suites for c in r.cases],
        "notes": result.notes,
    }
    return _clean(data)


def _fmt(v: Any) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else (f"{v:.3f}" if isinstance(v, float) else str(v))


def _md_escape(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def report_markdown(data: dict[str, Any]) -> str:
    """A human summary: verdict, gate, metrics per target, comparison, failing cases."""
    lines = [f"# coach eval: {'PASSED' if data['passed'] else 'FAILED'}", "",
             f"{data['created_at']} · {data['duration_s']} s · suites: {data['suite']} · repeat {data['repeat']}", "",
             "## Targets", ""]
    lines += [f"- **{t['name']}** ({t['role']})" for t in data["targets"]]
    lines += ["", "## Thresholds", "", "| suite | metric | value | bar | good | verdict |", "|---|---|---|---|---|---|"]
    for g in data["gate"]:
        bar = f">= {g['min']}" if g.get("min") is not None else f"<= {g.get('max')}"
        lines.append(f"| {g['suite']} | {g['metric']} | {_fmt(g['value'])} | {bar} | {_fmt(g.get('good'))} | "
                     f"{_verdict(g)} |")
    targets = [t["name"] for t in data["targets"]]
    lines += ["", "## Metrics", "", "| suite.metric | " + " | ".join(targets) + " |",
              "|---|" + "---|" * len(targets)]
    keys = sorted({k for v in data["variants"].values() for k in v["metrics"]})
    for k in keys:
        vals = [_fmt((data["variants"].get(t, {}).get("metrics", {}).get(k) or {}).get("value")) for t in targets]
        lines.append(f"| {k} | " + " | ".join(vals) + " |")
    if data["comparison"]:
        c = data["comparison"]
        lines += ["", f"## {c['candidate']} vs {c['baseline']}", "",
                  "| metric | baseline | candidate | delta | 95% CI | W/L/T |", "|---|---|---|---|---|---|"]
        for d in c["metrics"]:
            lines.append(f"| {d['suite']}.{d['metric']} | {_fmt(d['baseline'])} | {_fmt(d['candidate'])} | "
                         f"{_fmt(d['delta'])} | [{_fmt(d['ci_low'])}, {_fmt(d['ci_high'])}] | "
                         f"{d['wins']}/{d['losses']}/{d['ties']} |")
    failed = [c for c in data["case_results"] if not c["passed"]]
    lines += ["", f"## Failing cases ({len(failed)})", ""]
    for c in failed[:200]:
        why = c["error"] or "; ".join(f"{a['type']}: {a['detail']}" for a in c["asserts"] if not a["passed"])
        lines.append(f"- `{c['suite']}/{c['id']}` [{c['target']}] {_md_escape(why)[:400]}")
    return "\n".join(lines) + "\n"


def _x(text: Any) -> str:
    return _XML_BAD.sub("", str(text))


def report_junit(data: dict[str, Any]) -> bytes:
    """JUnit XML: one testcase per case x assertion (per target and repeat), plus one per threshold."""
    root = ET.Element("testsuites", name="coach eval")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for c in data["case_results"]:
        groups.setdefault((c["suite"], c["target"]), []).append(c)
    for (suite, target), cases in groups.items():
        ts = ET.SubElement(root, "testsuite", name=_x(f"{suite} [{target}]"))
        tests = failures = errors = 0
        for c in cases:
            tag = f" #{c['repeat'] + 1}" if data["repeat"] > 1 else ""
            checks = c["asserts"] or [{"type": "run", "passed": c["passed"], "detail": ""}]
            for a in checks:
                tests += 1
                tc = ET.SubElement(ts, "testcase", classname=_x(f"{suite}.{target}"),
                                   name=_x(f"{c['id']} :: {a['type']}{tag}"), time=f"{c['ms'] / 1000 / len(checks):.3f}")
                if c["error"]:
                    errors += 1
                    ET.SubElement(tc, "error", message=_x(c["error"][:500])).text = _x(c["error"])
                elif not a["passed"]:
                    failures += 1
                    ET.SubElement(tc, "failure", message=_x(a["detail"][:500])).text = _x(a["detail"])
        ts.set("tests", str(tests)), ts.set("failures", str(failures)), ts.set("errors", str(errors))
    gate = ET.SubElement(root, "testsuite", name="thresholds", tests=str(len(data["gate"])),
                         failures=str(sum(not g["passed"] for g in data["gate"])), errors="0")
    for g in data["gate"]:
        tc = ET.SubElement(gate, "testcase", classname=_x(f"thresholds.{g['target']}"),
                           name=_x(f"{g['suite']}.{g['metric']}"), time="0")
        if not g["passed"]:
            bar = f">= {g['min']}" if g.get("min") is not None else f"<= {g.get('max')}"
            ET.SubElement(tc, "failure", message=_x(f"{_fmt(g['value'])} (needs {bar}) {g.get('why', '')}"))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_reports(result: EvalResult, folder: Path) -> dict[str, Path]:
    """Write all four reports into `folder` (created); returns their paths by kind."""
    from agent.evals.report_html import report_html

    folder.mkdir(parents=True, exist_ok=True)
    data = report_data(result)
    paths = {"json": folder / "report.json", "md": folder / "report.md", "html": folder / "report.html",
             "junit": folder / "junit.xml"}
    outputs = {"json": json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False).encode("utf-8"),
               "md": report_markdown(data).encode("utf-8"), "html": report_html(data).encode("utf-8"),
               "junit": report_junit(data)}
    for kind, body in outputs.items():
        tmp = paths[kind].with_suffix(paths[kind].suffix + ".tmp")
        tmp.write_bytes(body)
        tmp.replace(paths[kind])  # readers (the UI) never see a half-written report
    return paths


def _verdict(g: dict) -> str:
    """The gate column: the level reached, a missed bar in bold, or a missed report-only goal."""
    if g["passed"]:
        return g["level"]
    return "**missed**" if g.get("gating", True) else "missed (report-only goal)"
