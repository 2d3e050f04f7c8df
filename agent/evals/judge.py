"""Optional LLM-as-judge: a rubric prompt scored N times per transcript, so a flaky judge shows as spread."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, Field

from agent.evals.stats import Spread, spread
from agent.evals.transcript import Transcript

DIMENSIONS = ("form", "socratic", "grounded", "non_leading")
_ALIASES = {"socratic_intent": "socratic", "groundedness": "grounded", "grounding": "grounded",
            "non_leadingness": "non_leading", "nonleading": "non_leading", "non_leading_ness": "non_leading",
            "leading": "non_leading"}
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S | re.I)
_LOOSE = re.compile(r"[\"']?(form|socratic(?:[ _-]intent)?|grounded(?:ness)?|non[ _-]?leading(?:ness)?)[\"']?"
                    r"\s*[:=\-]\s*\**\s*([1-5](?:\.\d+)?)", re.I)
MAX_PASSAGES = 6
PASSAGE_CHARS = 600


class JudgeResult(BaseModel):
    """Per-dimension spread over the judge's repeats, how many answers could not be read, and its rationales."""

    scores: dict[str, Spread] = Field(default_factory=dict)
    runs: list[dict[str, float]] = Field(default_factory=list)
    unreadable: int = 0
    rationales: list[str] = Field(default_factory=list)


def _dimension(name: str) -> str | None:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    key = _ALIASES.get(key, key)
    return key if key in DIMENSIONS else None


def _score(value: Any) -> float | None:
    if isinstance(value, dict):
        value = value.get("score")
    if isinstance(value, str):
        m = re.match(r"\s*(\d+(?:\.\d+)?)", value)
        value = float(m.group(1)) if m else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(min(5.0, max(1.0, value)))
    return None


def _json_objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object found in text: fenced blocks first, then each balanced {...} span."""
    found: list[dict[str, Any]] = []
    candidates = _FENCE.findall(text) + [text]
    for cand in candidates:
        depth, start = 0, -1
        for i, ch in enumerate(cand):
            if ch == "{":
                depth, start = depth + 1, (i if depth == 0 else start)
            elif ch == "}" and depth:
                depth -= 1
                if depth == 0:
                    try:
                        obj = json.loads(cand[start:i + 1])
                    except json.JSONDecodeError:
                        continue
                    if isinstance(obj, dict):
                        found.append(obj)
    return found


def parse_judge(text: str) -> tuple[dict[str, float], str] | None:
    """The four scores (clamped to 1-5) and the rationale from a judge's answer, or None when unreadable."""
    for obj in _json_objects(text):
        scores: dict[str, float] = {}
        for k, v in obj.items():
            dim, val = _dimension(str(k)), _score(v)
            if dim and val is not None:
                scores[dim] = val
        if set(scores) == set(DIMENSIONS):
            return scores, str(obj.get("rationale", ""))[:400]
    loose = {}
    for name, val in _LOOSE.findall(text):
        dim = _dimension(name)
        if dim and dim not in loose:
            loose[dim] = float(val)
    if set(loose) == set(DIMENSIONS):
        return loose, ""
    return None


def format_transcript(t: Transcript) -> str:
    lines = []
    for e in t.exchanges:
        lines.append(f"PERSON: {e.user}")
        cites = ", ".join(f"{c.source}#{c.chunk}" for c in e.turn.citations)
        lines.append(f"COACH: {e.turn.reply}" + (f"  [cited: {cites}]" if cites else ""))
    return "\n".join(lines)


def format_passages(t: Transcript) -> str:
    seen: dict[str, str] = {}
    for e in t.exchanges:
        for h in e.hits:
            seen.setdefault(f"{h.chunk.source}#{h.chunk.chunk}", h.chunk.text[:PASSAGE_CHARS])
    return "\n\n".join(f"[{k}] {v}" for k, v in list(seen.items())[:MAX_PASSAGES]) or "(none)"


def judge_transcript(model: Any, t: Transcript, repeats: int = 3, variant: str = "default") -> JudgeResult:
    """Ask the judge `repeats` times (a cassette model records each as its own sample) and summarise."""
    from agent.core.prompts import load_prompt

    spec = load_prompt("judge", variant)
    messages = spec.render(transcript=format_transcript(t), passages=format_passages(t))
    result = JudgeResult()
    for r in range(repeats):
        m = model.model_copy(update={"sample": r}) if hasattr(model, "sample") else model
        answer = m.invoke(messages)
        parsed = parse_judge(str(answer.content) if answer.content else _tool_args(answer))
        if parsed is None:
            result.unreadable += 1
            continue
        scores, why = parsed
        result.runs.append(scores)
        if why:
            result.rationales.append(why)
    result.scores = {d: spread([run[d] for run in result.runs]) for d in DIMENSIONS}
    return result


def _tool_args(message: Any) -> str:
    calls = getattr(message, "tool_calls", None) or []
    return json.dumps(calls[0]["args"]) if calls else ""
