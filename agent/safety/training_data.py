"""The safety classifier's labelled training messages (evals/safety/train/ plus the dev red-team and ordinary cases)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

LABELS = ("crisis_self", "crisis_others", "harassment", "discrimination", "legal", "medical", "injection",
          "off_topic", "ordinary")
CRISIS_LABELS = ("crisis_self", "crisis_others")
LANGS = ("en", "es", "fr", "de", "pt", "nl", "pl", "hi")
# Round 2 (train/round2/README.md) caught far more crisis messages on validation round 2, but alone it sent plain
# peer messages to the discrimination referral; the protected-ground gate (agent/safety/grounds.py) closed that.
ROUND2_FILES = ("train/round2/en_crisis2.yaml", "train/round2/en_referral2.yaml", "train/round2/multi2_a.yaml",
                "train/round2/multi2_b.yaml", "train/round2/en_coaching_a.yaml", "train/round2/en_coaching_b.yaml",
                "train/round2/multi_coaching.yaml", "train/round2/en_lookalikes.yaml")
TRAIN_FILES = ("train/en_crisis.yaml", "train/en_other.yaml", "train/multi.yaml", "train/en_peers.yaml", *ROUND2_FILES)
DEV_FILES = ("redteam.yaml", "ordinary.yaml")
# Ordinary coaching talk ("I don't know. Fine. Busy."): without it the model read calm, unsure first-person
# messages as crisis, since the safety files' ordinary class is mostly idioms and questions. Paths under evals/.
COACHING_GLOB = "coaching/*.yaml"
COACHING_EXTRA = ("coaching/conversations/dev.yaml", "grounding/grounded_turns.yaml")
# NOT trained on: safety/heldout.yaml and coaching/conversations/heldout.yaml stay held-out checks beside the
# blind set (which nothing here reads).
_OTHERS_NOTE = ("harm to others", "someone else", "colleague", "threat", "firearm")


@dataclass(frozen=True)
class Example:
    """One labelled message; `group` names its cross-validation fold (a language, or an author file)."""

    text: str
    label: str
    lang: str  # "" when the file does not say (the dev cases)
    group: str


def safety_root(evals_root: Path | None = None) -> Path:
    from agent.core.resources import evals_dir

    return Path(evals_root or evals_dir()) / "safety"


def coaching_files(evals_root: Path | None = None) -> list[Path]:
    """The coaching eval files whose client turns are ordinary training messages, in a fixed order."""
    base = safety_root(evals_root).parent
    return sorted(base.glob(COACHING_GLOB)) + [base / p for p in COACHING_EXTRA]


def client_turns(path: Path) -> list[str]:
    """Every client turn of a coaching eval file (plain strings or `say:` mappings)."""
    import yaml

    out = []
    for case in yaml.safe_load(path.read_text(encoding="utf-8")).get("cases", []):
        for turn in case.get("turns", []):
            text = turn if isinstance(turn, str) else (turn.get("say") or turn.get("user") or "")
            if text.strip():
                out.append(text)
    return out


def _dev_label(expect: str, note: str) -> str:
    """The nine-way label of a dev case: its crisis cases say in the note whether someone else is at risk."""
    if expect == "ok":
        return "ordinary"
    if expect == "crisis":
        return "crisis_others" if any(k in note.lower() for k in _OTHERS_NOTE) else "crisis_self"
    return expect


def load_examples(evals_root: Path | None = None) -> list[Example]:
    """Every training message, in file order (deterministic)."""
    import yaml

    root = safety_root(evals_root)
    out: list[Example] = []
    for name in TRAIN_FILES:
        for c in yaml.safe_load((root / name).read_text(encoding="utf-8"))["cases"]:
            lang = c.get("lang", "")
            group = lang if Path(name).stem.startswith("multi") else Path(name).stem
            out.append(Example(c["text"], c["label"], lang, group))
    for name in DEV_FILES:
        for c in yaml.safe_load((root / name).read_text(encoding="utf-8"))["cases"]:
            if c.get("document"):  # about a retrieved passage, which check_document handles
                continue
            out.append(Example(c["message"], _dev_label(c.get("expect", "ok"), c.get("note", "")), "", "dev"))
    for path in coaching_files(evals_root):
        out += [Example(t, "ordinary", "en", "coaching") for t in client_turns(path)]
    bad = {e.label for e in out} - set(LABELS)
    if bad:
        raise ValueError(f"unknown labels in the safety training data: {sorted(bad)}")
    return out


def fingerprint(evals_root: Path | None = None) -> str:
    """sha256 over the training files' bytes: the shipped weights record it, and a test compares."""
    root = safety_root(evals_root)
    h = hashlib.sha256()
    for path in [root / n for n in TRAIN_FILES + DEV_FILES] + coaching_files(evals_root):
        h.update(path.relative_to(root.parent).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def buried(examples: list[Example], n_crisis: int, n_ordinary: int, seed: int = 7) -> list[Example]:
    """Long messages made from the training set itself: a short crisis message set among two ordinary ones of the
    same language (the risk one sentence in a work update), and three ordinary ones together as the negatives.

    Why: the classifier reads a message's mean vector, and a long work update dilutes one risky sentence; on
    validation round 2, whole-message reading missed nearly every buried case. Deterministic for a seed."""
    import random

    rnd = random.Random(seed)
    ordinary: dict[str, list[str]] = {}
    for e in examples:
        if e.label == "ordinary" and 4 <= len(e.text.split()) <= 60:
            ordinary.setdefault(e.lang or "en", []).append(e.text)
    crisis = [e for e in examples if e.label in CRISIS_LABELS and len(e.text.split()) <= 30]
    if not crisis or len(ordinary.get("en", [])) < 3:
        return []
    out = []
    for _ in range(n_crisis):
        c = rnd.choice(crisis)
        pool = ordinary.get(c.lang or "en") or ordinary["en"]
        context = rnd.sample(pool, 2) if len(pool) >= 2 else rnd.sample(ordinary["en"], 2)
        at = rnd.choice((1, 2))
        out.append(Example(" ".join(context[:at] + [c.text] + context[at:]), c.label, c.lang, "buried"))
    langs = sorted(ordinary) + ["en"] * 4  # most coaching talk is English
    for _ in range(n_ordinary):
        pool = ordinary[rnd.choice(langs)]
        pool = pool if len(pool) >= 3 else ordinary["en"]
        out.append(Example(" ".join(rnd.sample(pool, 3)), "ordinary", "", "buried"))
    return out
