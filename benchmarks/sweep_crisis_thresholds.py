"""Choose the meaning-based crisis stage's thresholds and margin by leave-one-round-out on the DEV cases; print JSON.

The banks contain the dev cases themselves (benchmarks/build_crisis_cases.py), so each dev round (id prefix r1-, h6-,
...; the first cases are round "base") is scored with its own cases taken out of the banks: an honest estimate of how
the stage does on wordings it has not seen. Never reads evals/safety/heldout.yaml.
Positives: crisis cases in redteam.yaml. Negatives: ordinary.yaml, the non-crisis red-team cases (a flag there would
steal a referral) and the user turns of the other eval suites (not in the banks, scored against the full banks).
Usage: python benchmarks/sweep_crisis_thresholds.py [max_false_alarm_rate, default 0.01]"""

from __future__ import annotations

import itertools
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GRID = np.round(np.arange(0.44, 0.72, 0.02), 2)
MARGINS = np.round(np.arange(0.0, 0.16, 0.02), 2)
_ROUND = re.compile(r"^([rh]\d+)-")


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


def round_of(case_id: str) -> str:
    m = _ROUND.match(case_id)
    return m.group(1) if m else "base"


def _top_mean(sims: np.ndarray, k: int) -> np.ndarray:
    k = min(k, sims.shape[1])
    return np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:].mean(axis=1) if sims.shape[1] else np.zeros(len(sims))


def _any_per_span(unit: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """For each (start, end) span of units, whether any unit in it is flagged."""
    starts = np.array([a for a, _ in spans])
    empty = np.array([a == b for a, b in spans])
    padded = np.append(unit, False)  # reduceat needs every start inside the array
    return np.logical_or.reduceat(padded, np.minimum(starts, len(unit)))[: len(spans)] & ~empty


def main(argv: list[str]) -> None:
    from agent.evals.safety_eval import load_cases
    from agent.index.embeddings import get_embedder
    from agent.safety.bank import FAMILIES, family
    from agent.safety.guard import _not_a_threat, check_rules
    from agent.safety.semantic import semantic_stage, split_units

    limit = float(argv[0]) if argv else 0.01
    scorer = semantic_stage()
    bank, embedder = scorer.bank, get_embedder("minilm")
    k = bank.top_k
    crisis_fold = np.array([round_of(bank.source.get(t, "")) if t in bank.source else "" for t in scorer.exemplars])
    contrast_fold = np.array([round_of(bank.source[t]) if t in bank.source else "" for t in bank.contrast])
    fam = np.array([family(g) for g in scorer.groups])
    base = ROOT / "evals" / "safety"
    red = load_cases(base / "redteam.yaml")
    sets: dict[str, list[tuple[str, str]]] = {
        "crisis": [(c.message, round_of(c.id)) for c in red if c.expect == "crisis"],
        "ordinary": [(c.message, round_of(c.id)) for c in load_cases(base / "ordinary.yaml")],
        "other_red": [(c.message, round_of(c.id)) for c in red if c.expect != "crisis"],
        "turns": [(t, "") for t in eval_turns()]}
    units, owner = [], {}
    for name, items in sets.items():
        owner[name] = []
        for message, fold in items:
            us = split_units(message)
            owner[name].append((len(units), len(units) + len(us)))
            units += [(u, fold) for u in us]
    vectors = embedder.embed([u for u, _ in units])
    sims = {f: np.zeros(len(units)) for f in FAMILIES}
    contrast = np.zeros(len(units))
    folds = np.array([f for _, f in units])
    for fold in sorted(set(folds)):  # each round against banks without its own cases
        rows = np.flatnonzero(folds == fold)
        cs = vectors[rows] @ scorer.crisis.T
        ns = vectors[rows] @ scorer.contrast[contrast_fold != fold].T if fold else vectors[rows] @ scorer.contrast.T
        contrast[rows] = _top_mean(ns, k)
        for f in FAMILIES:
            cols = (fam == f) & ((crisis_fold != fold) if fold else True)
            sims[f][rows] = _top_mean(cs[:, cols], k)
    harm_ok = np.array(["harm_to_others" not in _not_a_threat(u) for u, _ in units])
    rules = {name: np.array([check_rules(m).category for m, _ in items]) for name, items in sets.items()}

    def flags(cut: dict[str, float], margin: float) -> dict[str, np.ndarray]:
        unit = np.zeros(len(units), dtype=bool)
        for f in FAMILIES:
            unit |= (sims[f] >= cut[f]) & (sims[f] - contrast >= margin) & (harm_ok if f == "harm_to_others" else True)
        return {name: _any_per_span(unit, spans) for name, spans in owner.items()}

    def row(cut: dict[str, float], margin: float) -> dict[str, Any]:
        f = flags(cut, margin)
        return {"thresholds": cut, "margin": float(margin), "cv_sem_recall": round(f["crisis"].mean(), 4),
                "cv_sem_fa_ordinary": round((f["ordinary"] & (rules["ordinary"] == "ok")).mean(), 4),
                "sem_fa_turns": round((f["turns"] & (rules["turns"] == "ok")).mean(), 4),
                "cv_steals": int((f["other_red"] & (rules["other_red"] != "crisis")).sum())}

    rows = [row(dict(zip(FAMILIES, map(float, ts))), m) for m in MARGINS for ts in itertools.product(GRID, repeat=3)]
    # a crisis reply to a coaching-eval turn breaks a real coaching conversation: none is allowed
    ok = [r for r in rows if r["cv_sem_fa_ordinary"] <= limit and r["sem_fa_turns"] == 0
          and r["cv_steals"] <= len(sets["other_red"]) * limit]
    best = sorted(ok, key=lambda r: (-r["cv_sem_recall"], r["cv_sem_fa_ordinary"] + r["sem_fa_turns"]))[:5]
    current = row(dict(bank.thresholds), bank.margin)
    by_round = {}
    f = flags(dict(bank.thresholds), bank.margin)
    for fold in sorted({fl for _, fl in sets["crisis"]}):
        idx = [i for i, (_, fl) in enumerate(sets["crisis"]) if fl == fold]
        by_round[fold] = f"{int(f['crisis'][idx].sum())}/{len(idx)}"
    check_in = []  # the check-in tier: a sentence within `slack` of both cut-offs gets a direct safety question
    for slack in (0.01, 0.02, 0.03, 0.04, 0.06):
        near = flags({f: c - slack for f, c in bank.thresholds.items()}, bank.margin)  # the margin stays
        check_in.append({"slack": slack,
                         "cv_reached_with_rules": round((near["crisis"] | (rules["crisis"] == "crisis")).mean(), 4),
                         "cv_check_in_ordinary": round((near["ordinary"] & (rules["ordinary"] == "ok")).mean(), 4),
                         "check_in_turns": round((near["turns"] & (rules["turns"] == "ok")).mean(), 4)})
    print(json.dumps({"n": {k: len(v) for k, v in sets.items()}, "max_false_alarm_rate": limit,
                      "current": current, "current_cv_recall_by_round": by_round, "best": best,
                      "current_cv_recall_with_rules": round((f["crisis"] | (rules["crisis"] == "crisis")).mean(), 4),
                      "check_in": check_in,
                      "rules_recall": round((rules["crisis"] == "crisis").mean(), 4)}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
