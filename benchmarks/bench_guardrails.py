"""Time the guardrails per message on the safety eval messages; print JSON.

In one run: a bare lowercase+regex pass (baseline), the keyword rules alone (check_rules), and the full input check
(check_input: rules, then the MiniLM crisis stage for messages the rules do not call a crisis), plus the stage's cold
start. Wall time is what a user waits; CPU time (all threads of this process) is steadier on a shared machine, so
both are given, with the load average at the start."""

from __future__ import annotations

import json
import os
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _messages() -> list[str]:
    from agent.evals.safety_eval import load_cases

    base = ROOT / "evals" / "safety"
    return [c.message for name in ("redteam.yaml", "ordinary.yaml", "heldout.yaml") if (base / name).exists()
            for c in load_cases(base / name)]


def _time(fn: Callable[[str], object], items: list[str]) -> tuple[list[float], list[float]]:
    """Per item: (wall µs, CPU µs)."""
    wall, cpu = [], []
    for item in items:
        w, c = time.perf_counter_ns(), time.process_time_ns()
        fn(item)
        wall.append((time.perf_counter_ns() - w) / 1000)
        cpu.append((time.process_time_ns() - c) / 1000)
    return wall, cpu


def _summary(us: list[float]) -> dict[str, float]:
    us = sorted(us)
    return {"mean_us": round(statistics.fmean(us), 1), "p50_us": round(us[len(us) // 2], 1),
            "p95_us": round(us[max(0, int(len(us) * 0.95) - 1)], 1), "max_us": round(us[-1], 1)}


def _both(fn: Callable[[str], object], items: list[str]) -> dict[str, dict[str, float]]:
    wall, cpu = _time(fn, items)
    return {"wall": _summary(wall), "cpu": _summary(cpu)}


def main() -> None:
    from agent.safety.guard import check_input, check_output, check_rules, make_canary, neutralize
    from agent.safety.rules import load_rules
    from agent.safety.semantic import semantic_stage

    load = os.getloadavg()[0]
    messages = _messages()
    t = time.perf_counter()
    load_rules()
    rules_load_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    scorer = semantic_stage()  # MiniLM session + the shipped bank vectors
    scorer.embedder.embed(["warm up"]) if scorer else None
    stage_load_ms = (time.perf_counter() - t) * 1000
    baseline = re.compile(r"\b(?:suicide|kill myself|ignore previous instructions|recipe)\b")
    base = _both(lambda m: baseline.search(m.lower()), messages)
    check_rules_all = _both(check_rules, messages * 3)
    full = _both(check_input, messages)
    passed = [m for m in messages if check_rules(m).category != "crisis"]  # the ones the stage actually sees
    full_passed = _both(check_input, passed)
    embed_only = _both(lambda m: scorer.embedder.embed([m]), passed[:200]) if scorer else {}  # the model's share
    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT.parent / "shared" / "seeds").glob("*.txt"))]
    chars = sum(map(len, seeds)) or 1
    neut_us = sum(_time(neutralize, seeds)[1])
    canary = make_canary()
    system = " ".join(seeds)[:4000]
    reply = "It sounds like the handover is where trust slips. What would a good one look like?"
    out = _both(lambda r: check_output(r, canary=canary, system_prompt=system), [reply] * 200)
    print(json.dumps({
        "messages": len(messages), "messages_reaching_semantic_stage": len(passed), "load_average_1m": load,
        "semantic_stage": "on" if scorer else "off", "rules_load_ms": round(rules_load_ms, 1),
        "semantic_stage_cold_start_ms": round(stage_load_ms, 1),
        "baseline_regex": base, "rules_only": check_rules_all, "rules_plus_semantic": full,
        "rules_plus_semantic_on_messages_rules_pass": full_passed, "minilm_embed_whole_message": embed_only,
        "neutralize_cpu_us_per_1k_chars": round(neut_us / chars * 1000, 1), "check_output_4k_prompt": out,
    }, indent=2))


if __name__ == "__main__":
    main()
