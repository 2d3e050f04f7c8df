"""A plain `coach ask` runs without typer and without the heavy libraries, and its shortcuts give the same results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from agent.coach.history import fit_history, trim_history
from agent.core.settings import load_settings
from agent.core.tokens import count_tokens
from agent.index import retrieval

ROOT = Path(__file__).resolve().parent.parent
# spaCy is not here: the offline coach needs it for faithful reflections (issue 11). Its command-line package
# (typer, weasel, click, rich, httpx) is: agent.coach.nlp imports spacy without it.
HEAVY = ("chromadb", "langchain", "langchain_core", "bm25s", "scipy", "streamlit", "tiktoken", "torch", "typer",
         "weasel", "click", "rich", "httpx")
# An exit handler, not a finally: an answered ask leaves by os._exit, after running the exit handlers.
PROBE = r"""
import atexit, json, sys
sys.argv = ["coach", "ask", "--json", sys.argv[1]]
atexit.register(lambda: sys.stderr.write("\nMODULES " + json.dumps(sorted({m.split(".")[0] for m in sys.modules}))))
import agent.cli
agent.cli.main()
"""


def _ask(home: Path, message: str) -> tuple[dict, set[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    env.update(COACH_HOME=str(home), COACH_EMBEDDER="minilm", COACH_SERVE="0")  # the shipped index: no ingest
    out = subprocess.run([sys.executable, "-c", PROBE, message], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    modules = json.loads(out.stderr.rpartition("MODULES ")[2])
    return json.loads(out.stdout), set(modules)


@pytest.fixture(scope="module")
def warm_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("warm") / "home"
    _ask(home, "My days are all meetings now.")  # the first run builds the index and the caches
    return home


def test_a_warm_ask_imports_none_of_the_heavy_libraries(warm_home):
    home = warm_home
    turn, modules = _ask(home, "My peer in finance keeps blocking my budget.")
    assert turn["reply"] and turn["citations"]
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
    assert list((home / "cache").glob("guardrails-*.marshal")) and list((home / "cache").glob("yaml-*.marshal"))



def test_a_referral_that_needs_no_retrieval_exits_cleanly(warm_home):
    # It can return before the embedder's warm-up thread finishes; under load exiting then aborted with exit 134
    # (an idle machine rarely hits that window, so this guards the routing and the exit code, not the race alone).
    turn, _ = _ask(warm_home, "Can I sue my employer for unpaid overtime?")  # _ask asserts exit code 0
    assert "legal" in turn["reply"] and not turn["citations"]

def _messages(texts: list[str]) -> list[SimpleNamespace]:
    return [SimpleNamespace(role=("user", "coach")[n % 2], text=t) for n, t in enumerate(texts)]


def test_fit_history_equals_counting_every_token():
    fixed = ["What should I do about my manager?", "A passage " * 40]
    for texts in (["short"], ["Ünïcödé ✓ " * 30] * 5, ["word " * 300] * 12, []):
        msgs = _messages(texts)
        for total in (256, 900, 3000, 20000):
            exact = trim_history(msgs, max(total - sum(count_tokens(t) for t in fixed), 0))
            assert fit_history(msgs, total, fixed) == exact


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """A searcher on the shipped index of the bundled corpus, with the real embedding model."""
    from agent.ingest.bundled import open_searcher

    home = tmp_path_factory.mktemp("bundled")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COACH_HOME", str(home))
        mp.setenv("COACH_EMBEDDER", "minilm")
        yield open_searcher(load_settings())


@pytest.mark.parametrize("query", ["my days are all meetings since I became team lead",
                                   "my peer in finance keeps blocking my budget", "how do I delegate",
                                   "giving feedback to a senior engineer"])
def test_the_fast_path_gives_the_chroma_paths_passages(bundled, monkeypatch, query):
    import bm25s

    fast = [h.chunk.id for h in bundled.search(query, k=4)]
    monkeypatch.setattr(retrieval, "EXACT_MAX", 0)  # dense from Chroma's collection, BM25 from bm25s itself
    gen = bundled.index.generation
    full = bm25s.BM25.load(str(gen.folder / "bm25"), show_progress=False)
    monkeypatch.setattr(gen._bm25, "scores", full.get_scores_from_ids)
    assert fast and fast == [h.chunk.id for h in bundled.search(query, k=4)]


def test_spacy_loads_without_its_command_line_package_which_still_imports_after():
    probe = ("import sys\nfrom agent.coach.nlp import parse\ndoc = parse('I keep doing the work myself.')\n"
             "print(doc[1].lemma_, doc[1].dep_, 'spacy.cli' in sys.modules, 'typer' in sys.modules)\n"
             "import spacy.cli\nprint(callable(spacy.cli.setup_cli))\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["keep", "ROOT", "False", "False", "True"]


def test_the_quick_spacy_load_gives_spacy_loads_tokens_tags_and_parses():
    probe = r"""
import json, sys, catalogue, importlib.metadata
from agent.coach import spacy_load
from agent.coach.nlp import EXCLUDE, MODEL
fast = spacy_load.load(MODEL, EXCLUDE)
catalogue.AVAILABLE_ENTRY_POINTS = importlib.metadata.entry_points()  # spaCy's own lookups from here on
ref = spacy_load.import_spacy().load(MODEL, exclude=EXCLUDE)
text = sys.stdin.read()
row = lambda doc: [(t.text, t.whitespace_, t.lemma_, t.tag_, t.dep_, t.head.i) for t in doc]
print(json.dumps([row(fast(text)) == row(ref(text)), fast.tokenizer.rules == ref.tokenizer.rules,
                  len(fast.tokenizer.rules), fast.pipe_names == ref.pipe_names, len(fast(text))]))
"""
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.md")))
    text += "\nI'm gonna can't won't y'all e.g. U.S. 10km $5 :) http://x.com/a?b=c a-b--c (hi) 'quoted' ... ain't"
    out = subprocess.run([sys.executable, "-c", probe], input=text, cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    same_tokens, same_rules, rules, same_pipes, tokens = json.loads(out.stdout)
    assert same_tokens and same_rules and same_pipes
    assert rules > 1000 and tokens > 1000  # the model's exceptions were loaded, and the text was long


def _coach_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    env.update(COACH_HOME=str(home), COACH_EMBEDDER="minilm", COACH_SERVE="0")
    return env


def test_an_answered_ask_that_skips_interpreter_shutdown_has_saved_its_turn(warm_home):
    cmd = [sys.executable, "-c", "from agent.cli import main; main()", "ask", "--json"]
    first = subprocess.run(cmd + ["My report keeps missing deadlines."], env=_coach_env(warm_home), cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert first.returncode == 0 and not first.stderr.strip(), first.stderr[-2000:]
    session = json.loads(first.stdout)["session"]
    again = subprocess.run(cmd + ["--session", session, "She says the estimates were never hers."],
                           env=_coach_env(warm_home), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-2000:]
    from agent.store.memory import open_store

    store = open_store(load_settings(home=warm_home))
    try:
        assert [m.text for m in store.history(session) if m.role == "user"] == [
            "My report keeps missing deadlines.", "She says the estimates were never hers."]
    finally:
        store.close()


@pytest.mark.parametrize("path", [[], ["--provider", "offline"]], ids=["fast path", "typer command"])
def test_a_reader_that_leaves_mid_reply_gets_no_traceback_and_the_turn_is_still_saved(warm_home, path):
    message = f"Nobody on my team speaks up in retros ({len(path)})."
    proc = subprocess.Popen([sys.executable, "-c", "from agent.cli import main; main()", "ask", *path,
                             message], env=_coach_env(warm_home), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before the coach has written a byte: its first write meets a closed pipe
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 120 and b"Traceback" not in err, err.decode()[-2000:]
    from agent.store.memory import open_store

    store = open_store(load_settings(home=warm_home))
    try:
        titles = [s.title for s in store.list_sessions()]
    finally:
        store.close()
    assert message in titles
