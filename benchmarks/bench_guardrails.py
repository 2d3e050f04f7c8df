"""Time the guardrails per message on the safety eval messages; a bare lowercase+regex pass is the baseline.

Times are CPU time of this process (the machine is shared, so wall time swings with other load)."""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _messages() -> list[str]:
    from agent.evals.safety_eval import load_cases

    base = ROOT / "evals" / "safety"
    return [c.message for name in ("redteam.yaml", "ordinary.yaml") for c in load_cases(base / name)]


def _time(fn, items: list[str]) -> list[float]:
    out = []
    for item in items:
        t = time.process_time_ns()
        fn(item)
        out.append((time.process_time_ns() - t) / 1000)
    return out


def _summary(us: list[float]) -> dict[str, float]:
    us = sorted(us)
    return {"mean_us": round(statistics.fmean(us), 1), "p50_us": round(us[len(us) // 2], 1),
            "p95_us": round(us[int(len(us) * 0.95) - 1], 1), "max_us": round(us[-1], 1)}


def main() -> None:
    from agent.guardrails import check_input, check_output, make_canary, neutralize
    from agent.guardrails_rules import load_rules

    messages = _messages()
    t = time.perf_counter()
    load_rules()
    load_ms = (time.perf_counter() - t) * 1000
    baseline = re.compile(r"\b(?:suicide|kill myself|ignore previous instructions|recipe)\b")
    base_us = _time(lambda m: baseline.search(m.lower()), messages)
    cold = _time(check_input, messages)  # first sight of each message's words (typo-repair cache empty)
    warm = _time(check_input, messages * 5)
    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT.parent / "shared" / "seeds").glob("*.txt"))]
    chars = sum(map(len, seeds)) or 1
    neut_us = sum(_time(neutralize, seeds))
    canary = make_canary()
    system = " ".join(seeds)[:4000]
    reply = "It sounds like the handover is where trust slips. What would a good one look like?"
    out_us = _time(lambda r: check_output(r, canary=canary, system_prompt=system), [reply] * 200)
    print(json.dumps({
        "messages": len(messages), "rules_load_ms": round(load_ms, 1),
        "baseline_regex": _summary(base_us), "check_input_cold": _summary(cold), "check_input_warm": _summary(warm),
        "neutralize_us_per_1k_chars": round(neut_us / chars * 1000, 1),
        "check_output_4k_prompt": _summary(out_us[1:]),
    }, indent=2))


if __name__ == "__main__":
    main()
