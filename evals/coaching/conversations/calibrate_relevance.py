"""Calibrate the question-relevance floor on dev.yaml: the author's expected coach questions (the comments
before each turn) against the client message they answer, versus the same questions shuffled onto messages of
other conversations. Prints both distributions and the floor that best separates them."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import yaml

from agent.evals.graders_meaning import SHORT, similarity


def pairs(path: Path) -> list[tuple[str, str, str]]:
    """(case id, client context, expected question) from the comment that precedes each later turn."""
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    out = []
    for case in data["cases"]:
        start = text.index(f"id: {case['id']}")
        block = text[start:]
        comments = re.findall(r"#\s*coach[^:]*:\s*(.+)", block.split("\n  - id:")[0])[1:]  # [0] is the opening
        says = [t["say"] for t in case["turns"]]
        for i, comment in enumerate(comments[: len(says) - 1]):
            q = [p for p in re.split(r"(?<=[.;])\s+", comment) if p.strip().endswith("?")]
            msg = says[i] if len(says[i].split()) >= SHORT or i == 0 else f"{says[i - 1]} {says[i]}"
            if q:
                out.append((case["id"], msg, q[-1].split(";")[-1].strip()))
    return out


def main() -> None:
    found = pairs(Path(sys.argv[1] if len(sys.argv) > 1 else "evals/coaching/conversations/dev.yaml"))
    rng = random.Random(11)
    rel = [similarity(q, m) for _, m, q in found]
    irr = []
    for cid, _, q in found:
        other = rng.choice([m for c, m, _ in found if c != cid])
        irr.append(similarity(q, other))
    best = max((f / 100 for f in range(5, 60)),
               key=lambda f: sum(r >= f for r in rel) / len(rel) + sum(i < f for i in irr) / len(irr))
    print(f"{len(found)} pairs; relevant mean {sum(rel) / len(rel):.3f}, shuffled mean {sum(irr) / len(irr):.3f}")
    print(f"best floor {best:.2f}: relevant above {sum(r >= best for r in rel) / len(rel):.2f}, "
          f"shuffled below {sum(i < best for i in irr) / len(irr):.2f}")


if __name__ == "__main__":
    main()
