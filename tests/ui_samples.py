"""Sample data shared by the UI tests: a note the offline coach cites, and an eval report."""

from __future__ import annotations

# A note the offline coach will cite for PEER_MESSAGE (it shares enough words to pass the grounding bar).
PEER_NOTE = (
    "# When peers ignore your proposals\n\nWhen peers ignore your proposals in planning meetings, ask each of "
    "them what they need from the plan before the next meeting. Trust grows when you invite peers into "
    "planning early, so your proposals carry their ideas too.\n"
)
PEER_MESSAGE = "Priya and my other peers ignore my proposals in planning meetings and I feel stuck."


def index_with_peer_note(settings, folder) -> None:
    """Index the bundled notes, then PEER_NOTE on top (in that order: a non-empty index skips the bundle)."""
    from agent.ingest.bundled import open_searcher
    from agent.ingest.pipeline import ingest_paths

    open_searcher(settings)
    note = folder / "proposals-peers-ignore.md"
    note.write_text(PEER_NOTE, encoding="utf-8")
    assert ingest_paths([note], settings).ok


def _row(suite: str, metric: str, value, passed=None, **bar) -> dict:
    return {
        "value": value,
        "n": 8,
        "suite": suite,
        "metric": metric,
        "label": metric.replace("_", " "),
        "higher_is_better": "max" not in bar,
        **bar,
        **({} if passed is None else {"passed": passed}),
    }


def sample_report() -> dict:
    """A report in the shape agent/evals/report.py writes (suite.metric rows, min/max bars, comparisons)."""
    return {
        "schema": "socratic-coach-eval/1",
        "title": "coach eval",
        "passed": False,
        "suite": "coaching, openers",
        "mode": "replay",
        "provider": "offline",
        "created_at": "2026-01-01T00:00:00+00:00",
        "cases": 12,
        "variants": {
            "offline/default": {
                "metrics": {
                    "coaching.open_question_share": _row(
                        "coaching", "open_question_share", 0.92, True, min=0.75
                    ),
                    "coaching.coach_talk_ratio": _row("coaching", "coach_talk_ratio", 1.6, False, max=1.0),
                    "coaching.turn_ms_mean": _row("coaching", "turn_ms_mean", 310.0),
                    "openers.openers_quality": _row("openers", "openers_quality", None, min=0.8),
                    "openers.citations_valid": _row("openers", "citations_valid", 1.0, True, min=1.0),
                }
            },
            "offline/concise": {
                "metrics": {
                    "coaching.open_question_share": _row(
                        "coaching", "open_question_share", 0.7, False, min=0.75
                    ),
                }
            },
        },
        "thresholds": {
            "coaching.open_question_share": {"min": 0.75, "why": "open questions"},
            "coaching.coach_talk_ratio": {"max": 1.0},
        },
        "comparison": {"baseline": "offline/default", "candidate": "offline/concise", "metrics": []},
        "comparisons": [
            {
                "metric": "coaching.open_question_share",
                "suite": "coaching",
                "n": 8,
                "baseline": 0.92,
                "candidate": 0.7,
                "delta": -0.22,
                "ci_low": -0.3,
                "ci_high": -0.1,
                "wins": 0,
                "losses": 5,
                "ties": 3,
                "higher_is_better": True,
            }
        ],
    }
