"""Sweep the meaning-based crisis stage's threshold and margin on the DEV cases only; print JSON.

Never reads evals/safety/heldout.yaml. Positives: crisis cases in redteam.yaml. Negatives: ordinary.yaml, the user
turns of the coaching/grounding eval suites, and the non-crisis red-team cases (a flag there would steal a
referral). Figures are for the semantic stage alone and for rules + semantic (what check_input does)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _eval_turns() -> list[str]:
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
        if path.parent.name in ("safety", "cassettes"):
            continue
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return out


def _rate(flags: list[bool]) -> float:
    return round(sum(flags) / len(flags), 4) if flags else 0.0


def main(argv: list[str]) -> None:
    from agent.embeddings import get_embedder
    from agent.evals.safety_eval import load_cases
    from agent.guardrails import check_rules
    from agent.guardrails_semantic import CrisisScorer, load_bank

    base = ROOT / "evals" / "safety"
    red = load_cases(base / "redteam.yaml")
    ordinary = [c.message for c in load_cases(base / "ordinary.yaml")]
    turns = _eval_turns()
    crisis = [c.message for c in red if c.expect == "crisis"]
    others = [c.message for c in red if c.expect != "crisis"]
    scorer = CrisisScorer(load_bank(), get_embedder("minilm"))
    scores = {m: scorer.score(m) for m in {*crisis, *ordinary, *turns, *others}}
    rule = {m: check_rules(m).category for m in scores}
    rows = []
    for t100 in range(40, 76):
        for m100 in range(-4, 21):
            t, mg = t100 / 100, m100 / 100
            sem = {m: scorer.flagged(s, t, mg) is not None for m, s in scores.items()}
            rows.append({
                "threshold": t, "margin": mg,
                "sem_recall": _rate([sem[m] for m in crisis]),
                "recall": _rate([rule[m] == "crisis" or sem[m] for m in crisis]),
                "sem_fa_ordinary": _rate([sem[m] for m in ordinary]),
                "fa_ordinary": _rate([rule[m] != "ok" or sem[m] for m in ordinary]),
                "sem_fa_turns": _rate([sem[m] for m in turns]),
                "steals": sum(sem[m] and rule[m] != "crisis" for m in others),
            })
    current = next(r for r in rows if (r["threshold"], r["margin"]) == (load_bank().threshold, load_bank().margin))
    ok = [r for r in rows if r["sem_fa_ordinary"] <= 0.01 and r["sem_fa_turns"] <= 0.01 and r["steals"] <= 2]
    best = sorted(ok, key=lambda r: (-r["recall"], -r["sem_recall"], r["sem_fa_ordinary"] + r["sem_fa_turns"]))[:8]
    missed = [m for m in crisis if rule[m] != "crisis" and scorer.flagged(scores[m]) is None]
    alarms = [{"message": m, "unit": h.text, "sim": round(h.crisis_sim, 3), "contrast": round(h.contrast_sim, 3),
               "exemplar": h.exemplar} for m in [*ordinary, *turns, *others]
              if (h := scorer.flagged(scores[m])) is not None]
    near = sorted(((max(s.crisis_sim for s in scores[m]), m) for m in ordinary + turns if scores[m]), reverse=True)
    print(json.dumps({
        "n": {"crisis": len(crisis), "ordinary": len(ordinary), "turns": len(turns), "other_red": len(others)},
        "current": current, "best": best, "missed_at_current": missed, "alarms_at_current": alarms,
        "closest_negatives": [{"sim": round(s, 3), "message": m[:100]} for s, m in near[:12]],
        "crisis_margins": sorted(
            (round(max((u.crisis_sim for u in scores[m]), default=0), 3), round(
                max((u.gap for u in scores[m]), default=0), 3), m[:70]) for m in crisis)[: int(argv[0]) if argv else 25],
    }, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
