"""The result every grader returns: a score, a one-line detail, and whether the grader applied at all."""

from __future__ import annotations

from pydantic import BaseModel


class Grade(BaseModel):
    """A grader's verdict; `applicable=False` means the transcript gave it nothing to judge."""

    score: float
    detail: str = ""
    applicable: bool = True


def not_applicable(why: str) -> Grade:
    return Grade(score=1.0, detail=why, applicable=False)


def share(good: int, total: int, what: str, bad: list[str] | None = None) -> Grade:
    """A proportion grade with a detail naming the first few offenders."""
    if total == 0:
        return not_applicable(f"no {what}")
    detail = f"{good}/{total} {what}"
    if bad:
        shown = "; ".join(b[:90] for b in bad[:3])
        detail += f" (e.g. {shown})"
    return Grade(score=good / total, detail=detail)
