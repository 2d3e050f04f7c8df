"""The safety classifier's labelled training messages (evals/safety/train/ plus the dev red-team and ordinary cases)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

LABELS = ("crisis_self", "crisis_others", "harassment", "discrimination", "legal", "medical", "injection",
          "off_topic", "ordinary")
LANGS = ("en", "es", "fr", "de", "pt", "nl", "pl", "hi")
TRAIN_FILES = ("train/en_crisis.yaml", "train/en_other.yaml", "train/multi.yaml", "train/en_peers.yaml")
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
            group = lang if name.endswith("multi.yaml") else Path(name).stem
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
