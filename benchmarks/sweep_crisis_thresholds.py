"""Sweep the meaning-based crisis stage's thresholds and margin on the DEV cases only; print JSON.

Never reads evals/safety/heldout.yaml. Positives: crisis cases in redteam.yaml. Negatives: ordinary.yaml, the user
turns of the other eval suites (coaching, grounding, openers), and the non-crisis red-team cases (a flag there would
steal a referral). `sem_*` is the semantic stage alone; `recall` is rules + semantic, which is what check_input does.
Usage: python benchmarks/sweep_crisis_thresholds.py [max_false_alarm_rate, default 0.01]"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GRID = np.round(np.arange(0.44, 0.70, 0.02), 2)
MARGINS = np.round(np.arange(0.0, 0.16, 0.02), 2)


def eval_turns() -> list[str]:
    """User turns from the other eval suites: realistic multi-sentence coaching messages."""
    import yaml

    out: list[str] = []

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in ("turns", "message", "situation"):
            out.append(node)

    for path in sorted((ROOT / "evals").glob("*/*.yaml")):
        if path.parent.name not in ("safety", "cassettes"):
            walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return out


def main(argv: list[str]) -> None:
    from agent.embeddings import get_embedder
    from agent.evals.safety_eval import load_cases
    from agent.guardrails import check_rules
    from agent.guardrails_semantic import FAMILIES, CrisisScorer, load_bank

    limit = float(argv[0]) if argv else 0.01
    base = ROOT / "evals" / "safety"
    red = load_cases(base / "redteam.yaml")
    sets = {"crisis": [c.message for c in red if c.expect == "crisis"],
            "ordinary": [c.message for c in load_cases(base / "ordinary.yaml")],
            "turns": eval_turns(), "other_red": [c.message for c in red if c.expect != "crisis"]}
    bank = load_bank()
    scorer = CrisisScorer(bank, get_embedder("minilm"))
    scores = {m: scorer.score(m) for ms in sets.values() for m in ms}
    rules = {m: check_rules(m).category for m in scores}
    units, span = [], {}
    for m, s in scores.items():
        span[m] = (len(units), len(units) + len(s))
        units += s
    owner = {name: [span[m] for m in ms] for name, ms in sets.items()}
    sims = {f: np.array([u.sims.get(f, 0.0) for u in units]) for f in FAMILIES}
    gap = {f: sims[f] - np.array([u.contrast_sim for u in units]) for f in FAMILIES}
    rule_crisis = {name: np.array([rules[m] == "crisis" for m in ms]) for name, ms in sets.items()}

    def flags(cut: dict[str, float], margin: float) -> dict[str, np.ndarray]:
        unit = np.zeros(len(units), dtype=bool)
        for f in FAMILIES:
            unit |= (sims[f] >= cut[f]) & (gap[f] >= margin)
        return {name: np.array([bool(unit[a:b].any()) for a, b in spans]) for name, spans in owner.items()}

    def row(cut: dict[str, float], margin: float) -> dict[str, Any]:
        f = flags(cut, margin)
        return {"thresholds": cut, "margin": float(margin), "sem_recall": round(f["crisis"].mean(), 4),
                "recall": round((f["crisis"] | rule_crisis["crisis"]).mean(), 4),
                "sem_fa_ordinary": round(f["ordinary"].mean(), 4), "sem_fa_turns": round(f["turns"].mean(), 4),
                "steals": int((f["other_red"] & ~rule_crisis["other_red"]).sum())}

    rows = [row(dict(zip(FAMILIES, map(float, ts))), m) for m in MARGINS for ts in itertools.product(GRID, repeat=3)]
    ok = [r for r in rows if r["sem_fa_ordinary"] <= limit and r["sem_fa_turns"] <= limit and r["steals"] <= 1]
    best = sorted(ok, key=lambda r: (-r["recall"], -r["sem_recall"], r["sem_fa_ordinary"] + r["sem_fa_turns"]))[:5]
    current = row(dict(bank.thresholds), bank.margin)
    hits = {m: scorer.flagged(scores[m]) for m in scores}
    print(json.dumps({
        "n": {k: len(v) for k, v in sets.items()}, "max_false_alarm_rate": limit, "current": current, "best": best,
        "missed_at_current": [m for m in sets["crisis"] if rules[m] != "crisis" and hits[m] is None],
        "alarms_at_current": [{"message": m[:120], "unit": h.text[:120], "group": h.group, "sim": round(h.crisis_sim, 3),
                               "contrast": round(h.contrast_sim, 3), "exemplar": h.exemplar}
                              for name in ("ordinary", "turns", "other_red") for m in sets[name]
                              if (h := hits[m]) is not None and rules[m] != "crisis"],
    }, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
