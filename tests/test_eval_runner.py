"""Cases load and validate; assertions grade; the runner drives the real Coach (offline, and via cassettes)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agent.core.errors import ConfigError
from agent.core.settings import load_settings
from agent.core.types import CoachTurn
from agent.evals.asserts import evaluate
from agent.evals.cases import Assertion, Case, load_suite
from agent.evals.gate import Threshold, check
from agent.evals.orchestrate import run_eval
from agent.evals.report import write_reports
from agent.evals.runner import RunOptions
from agent.evals.targets import Target
from agent.evals.transcript import transcript_of
from tests.fakes import RecordingChatModel

SETTINGS = {"software", "healthcare", "retail", "public sector", "clinic", "factory"}
THEMES = {"career_change", "dependency_mindset", "career_direction", "team_buy_in", "peer_relationships",
          "delegation", "difficult_news"}


# --- the shipped cases --------------------------------------------------------------------------------------

def test_heldout_is_its_own_suite_and_not_in_the_default_run():
    from agent.evals.runner import ALL_SUITES

    held = load_suite("heldout")
    assert len(held.cases) == 10 and all(c.id.startswith("ch-") for c in held.cases)
    assert "heldout" not in ALL_SUITES
    assert not any(c.id.startswith("ch-") for c in load_suite("coaching").cases)


def test_coaching_suite_covers_themes_and_settings_with_3_to_6_turns():
    suite = load_suite("coaching")
    assert len(suite.cases) >= 40
    scenarios = [c for c in suite.cases if not c.id.startswith("cv-")]
    assert all(3 <= len(c.turns) <= 6 for c in scenarios), [c.id for c in scenarios if not 3 <= len(c.turns) <= 6]
    talks = [c for c in suite.cases if c.id.startswith("cv-")]  # issue 11's conversations: 5 to 7 turns
    assert len(talks) == 14 and all(5 <= len(c.turns) <= 7 for c in talks)
    assert all(t.tags or t.facts for c in talks for t in c.turns)  # mapping turns keep their tags and facts
    assert {c.vars["setting"] for c in suite.cases} >= SETTINGS
    assert {c.vars["theme"] for c in suite.cases} >= THEMES
    assert sum(c.ends_with_commitment for c in suite.cases) >= 10
    assert all(any(a.type == "one-question" for a in c.assert_) for c in suite.cases)  # defaults merged


def test_openers_and_grounding_suites_load():
    openers = load_suite("openers")
    assert len(openers.cases) >= 15 and all(c.openers and c.openers.peer for c in openers.cases)
    assert len(load_suite("grounding").cases) >= 8


def write_suite(root: Path, name: str, body: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cases.yaml").write_text(body, encoding="utf-8")
    return root


@pytest.mark.parametrize("body, message", [
    ("suite: coaching\ncases:\n  - id: a\n    turns: [hi]\n    assert: [{type: nonsense}]\n", "unknown assertion type"),
    ("suite: coaching\ncases:\n  - id: a\n    turns: [hi]\n  - id: a\n    turns: [ho]\n", "already used"),
    ("suite: openers\ncases:\n  - id: a\n    turns: [hi]\n", "declares suite"),
    ("suite: coaching\ncases:\n  - id: a\n", "neither turns nor an openers"),
    ("suite: coaching\ncases:\n  - id: Bad Id\n    turns: [hi]\n", "lower-case"),
    ("suite: coaching\ncases: [\n", "cannot read"),
])
def test_bad_case_files_are_one_line_config_errors(tmp_path, body, message):
    root = write_suite(tmp_path, "coaching", body)
    with pytest.raises(ConfigError) as err:
        load_suite("coaching", root)
    assert message in str(err.value) and "cases.yaml" in str(err.value) and "\n" not in str(err.value)


def test_defaults_merge_vars_substitute_and_case_asserts_override(tmp_path):
    root = write_suite(tmp_path, "coaching", """
suite: coaching
defaults:
  vars: {peer: Sam}
  assert: [{type: one-question, threshold: 0.5}, {type: no-leak}]
cases:
  - id: a
    turns: ["My peer {{peer}} ignores me."]
    assert: [{type: one-question, threshold: 0.9}]
""")
    case = load_suite("coaching", root).cases[0]
    assert case.turns[0].user == "My peer Sam ignores me."
    assert [(a.type, a.threshold) for a in case.assert_] == [("one-question", 0.9), ("no-leak", None)]


# --- assertions ---------------------------------------------------------------------------------------------

CASE = Case(id="c", turns=["x"])
T = transcript_of([("My peer ignores me", CoachTurn(reply="You feel ignored. What matters most?", situation="peer_conflict")),
                   ("Yes", CoachTurn(reply="What would you like instead?", situation="peer_conflict"))])


@pytest.mark.parametrize("spec, passed", [
    ({"type": "contains-any", "value": ["ignored", "zebra"]}, True),
    ({"type": "contains-all", "value": ["ignored", "zebra"]}, False),
    ({"type": "not-contains-any", "value": ["zebra"]}, True),
    ({"type": "not-icontains", "value": "WHAT"}, False),
    ({"type": "icontains", "value": "IGNORED", "turn": "last"}, False),
    ({"type": "icontains", "value": "IGNORED", "turn": 0}, True),
    ({"type": "situation", "value": "peer_conflict", "turn": "all"}, True),
    ({"type": "situation", "value": ["delegation"]}, False),
    ({"type": "safety", "value": "ok"}, True),
    ({"type": "one-question"}, True),
    ({"type": "talk-ratio", "threshold": 3.0}, True),
    ({"type": "talk-ratio", "threshold": 2.0}, False),
    ({"type": "commitment"}, False),
    ({"type": "regex", "value": r"what\s+matters"}, True),
])
def test_assertions(spec, passed):
    result = evaluate(Assertion(**spec), T, CASE)
    assert result.passed is passed, result.detail


def test_threshold_gate_directions_and_missing_metrics():
    bars = {"coaching": {"a": Threshold(min=0.9), "b": Threshold(max=1.0, good=0.6), "c": Threshold(min=0.5),
                         "d": Threshold(min=0.5, optional=True), "e": Threshold(min=0.5, good=0.9)}}
    results = {r.metric: r for r in check(bars, "coaching", "t", {"a": 0.95, "b": 0.5, "e": 0.7})}
    assert results["a"].passed and results["a"].level == "met"
    assert results["b"].passed and results["b"].level == "good"
    assert results["e"].passed and results["e"].level == "fair"
    assert not results["c"].passed and results["c"].value is None
    assert results["d"].passed and results["d"].level == "n/a"
    with pytest.raises(ValueError):
        Threshold(min=1, max=2)


def test_a_report_only_goal_is_reported_missed_but_does_not_block():
    bars = {"coaching": {"goal": Threshold(min=2.0, gating=False), "bar": Threshold(min=0.5)}}
    results = {r.metric: r for r in check(bars, "coaching", "t", {"goal": 1.2, "bar": 0.7})}
    assert not results["goal"].passed and not results["goal"].blocks
    assert results["bar"].passed and not results["bar"].blocks
    blocking = {r.metric: r for r in check(bars, "coaching", "t", {"goal": 1.2, "bar": 0.1})}
    assert blocking["bar"].blocks


# --- the runner, with the real Coach ------------------------------------------------------------------------

SMALL = """
suite: coaching
cases:
  - id: peer-case
    description: "A <script>alert('x')</script> description"
    vars: {ends_with_commitment: true}
    turns:
      - "My peer Marcus pushes back on everything my team proposes and I am tired of it <b>really</b>."
      - "I want us to agree in private before the big review meetings."
      - "I'll ask Marcus for coffee on Thursday to ask what would make working with my team easier."
    assert:
      - {type: one-question, threshold: 0.5}
      - {type: safety, value: ok}
      - {type: contains, value: "zzz-never"}
"""
OPENERS = """
suite: openers
cases:
  - id: op
    openers: {situation: "My peer Marcus, the platform lead, keeps blocking our designs.", peer: "Marcus"}
"""


@pytest.fixture
def small_root(tmp_path):
    root = write_suite(tmp_path / "evals", "coaching", SMALL)
    return write_suite(root, "openers", OPENERS)


def opts(root: Path, **kw) -> RunOptions:
    return RunOptions(suites=kw.pop("suites", ["coaching", "openers"]), evals_root=root, **kw)


@pytest.mark.slow
def test_offline_run_grades_every_case_and_writes_reports(small_root, tmp_path):
    result = run_eval(opts(small_root), load_settings(), thresholds={"coaching": {"one_question_share": Threshold(min=0.5),
                                                                                 "case_pass_rate": Threshold(min=0.9)}})
    coaching = result.runs_for(result.targets[0])[0]
    case = coaching.cases[0]
    assert len(case.transcript.exchanges) == 3 and case.transcript.exchanges[0].hits  # retrieved set recorded
    assert [a.type for a in case.asserts if not a.passed] == ["contains"] and not case.passed
    assert set(coaching.metrics) >= {"one_question_share", "coach_talk_ratio", "grow_progression", "case_pass_rate"}
    assert [g.metric for g in result.gate if not g.passed] == ["case_pass_rate"] and not result.passed
    paths = write_reports(result, tmp_path / "report")
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["passed"] is False and data["missed"] == [result.gate[1].line()]
    assert "coaching.one_question_share" in data["variants"]["offline/default"]["metrics"]
    from agent.evals.view import view_report  # the UI's reader understands the report

    view = view_report(data)
    row = next(r for r in view.rows if r.metric == "coaching.case_pass_rate")
    assert row.threshold == 0.9 and row.passed is False and view.passed is False
    html = paths["html"].read_text(encoding="utf-8")
    assert "<svg" in html and "&lt;script&gt;" in html and "<script" not in html and "&lt;b&gt;really" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    junit = ET.parse(paths["junit"]).getroot()
    names = [tc.get("name") for tc in junit.iter("testcase")]
    assert "peer-case :: contains" in names and "coaching.case_pass_rate" in names
    assert len(list(junit.iter("failure"))) == 2
    assert "FAILED" in paths["md"].read_text(encoding="utf-8")


@pytest.mark.slow
def test_compare_of_identical_targets_is_all_ties(small_root):
    result = run_eval(opts(small_root, suites=["coaching"], compare=Target(prompt_variant="concise")), load_settings(),
                      thresholds={})
    deltas = {d.metric: d for d in result.comparison}
    assert deltas["one_question_share"].ties == 1 and deltas["one_question_share"].delta == 0.0


def llm_fake(tools: bool) -> RecordingChatModel:
    n = iter(range(1000))

    def reply(messages):
        i = next(n)
        return {"reply": f"It sounds like this matters to you ({i}). What would help most?",
                "question": "What would help most?", "cited_ids": [], "phase": "reality", "openers": [],
                "commitment": None} if tools else json.dumps({"reply": f"You care about this ({i}). What now?",
                                                              "question": "What now?", "phase": "goal"})
    return RecordingChatModel(default=reply, supports_tools=tools)


@pytest.mark.slow
@pytest.mark.parametrize("tools", [True, False])
def test_record_then_replay_through_the_coach_gives_identical_transcripts(small_root, tmp_path, monkeypatch, tools):
    fake = llm_fake(tools)
    monkeypatch.setattr("agent.providers.factory.build_chat_model", lambda settings: fake)
    o = opts(small_root, suites=["coaching"], target=Target(provider="openai", model="gpt-test"),
             cassettes=tmp_path / "cassettes", repeat=2)
    recorded = run_eval(o.model_copy(update={"record": True}), load_settings(), thresholds={})
    assert (tmp_path / "cassettes" / "openai-gpt-test.jsonl").is_file() and len(fake.calls) >= 6
    monkeypatch.setattr("agent.providers.factory.build_chat_model", lambda settings: pytest.fail("replay built a model"))
    replayed = run_eval(o, load_settings(), thresholds={})

    def replies(result):
        return [[e.turn.reply for e in c.transcript.exchanges] for c in result.suites[0].cases]

    assert replies(replayed) == replies(recorded)
    assert replies(recorded)[0] != replies(recorded)[1]  # repeats were recorded as separate samples
    assert not any(c.error for c in replayed.suites[0].cases)


@pytest.mark.slow
def test_replay_miss_stops_with_the_key(small_root, tmp_path):
    from agent.evals.cassette import CassetteMiss

    o = opts(small_root, suites=["coaching"], target=Target(provider="openai", model="gpt-test"),
             cassettes=tmp_path / "empty")
    with pytest.raises(CassetteMiss, match="openai/gpt-test key [0-9a-f]{64}"):
        run_eval(o, load_settings(), thresholds={})


def test_unknown_suite_is_a_config_error(small_root):
    with pytest.raises(ConfigError, match="unknown suite"):
        run_eval(opts(small_root, suites=["coaching", "vibes"]), load_settings(), thresholds={})


@pytest.mark.slow
def test_judge_scores_land_in_suite_metrics_with_spread(small_root, tmp_path, monkeypatch):
    answers = iter(['{"form": 4, "socratic": 3, "grounded": 4, "non_leading": 5}',
                    '{"form": 2, "socratic": 3, "grounded": 4, "non_leading": 5}'] * 10)
    fake = RecordingChatModel(default=lambda messages: next(answers))
    monkeypatch.setattr("agent.providers.factory.build_chat_model", lambda settings: fake)
    o = opts(small_root, suites=["coaching"], judge=True, judge_provider="openai", judge_repeats=2, record=True,
             cassettes=tmp_path / "cassettes")
    run = run_eval(o, load_settings(), thresholds={}).suites[0]
    assert run.metrics["judge_form"] == 3.0 and run.metrics["judge_socratic"] == 3.0
    assert run.metrics["judge_spread"] > 0 and run.cases[0].judge["form"].std > 1
    assert "non_leading" in fake.calls[0][0].content  # the rubric prompt, not the coach prompt


# --- suites owned by others ---------------------------------------------------------------------------------

def test_external_results_are_folded_tolerantly():
    from agent.evals.external import fold

    run = fold("safety", "t", {"metrics": {"recall_crisis": 0.9, "nested": {"value": 0.5}, "skip": "text"},
                               "cases": [{"id": "a", "passed": True}, {"id": "b", "passed": False, "detail": "why"}]})
    assert run.metrics == {"recall_crisis": 0.9, "nested": 0.5, "case_pass_rate": 0.5}
    assert [c.passed for c in run.cases] == [True, False] and run.cases[1].asserts[0].detail == "why"
    misses = fold("retrieval", "t", {"metrics": {"hit": 0.8}, "cases": [{"id": "q", "passed": False}],
                                     "complete_cases": False})
    assert misses.misses_only and "case_pass_rate" not in misses.metrics


def test_a_missing_suite_module_fails_the_gate_by_name(monkeypatch):
    from agent.evals import external
    from agent.evals.orchestrate import _gate

    monkeypatch.setitem(external.MODULES, "safety", "agent.evals.no_such_eval")
    run = external.run_external("safety", "t", {})
    assert run.error == "agent.evals.no_such_eval is not available"
    results = _gate({"safety": {"accuracy": Threshold(min=0.9)}}, [run])
    assert [(r.metric, r.passed) for r in results] == [("accuracy", False), ("suite_ran", False)]
