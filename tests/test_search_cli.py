"""`coach search`: JSON and human output, options, and one-line errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from agent.core.settings import load_settings
from agent.index.generations import Index
from tests.index_cases import DELEGATION, FEEDBACK, PEERS, upsert


@pytest.fixture
def index_dir(tmp_path):
    root = tmp_path / "idx"
    Index.open(load_settings(), root).apply(
        {
            **upsert("delegation.md", DELEGATION),
            **upsert("feedback.md", FEEDBACK),
            **upsert("peers.md", PEERS),
        }
    )
    return root


def run(*args: str):
    return CliRunner().invoke(app, ["search", *args])


def test_json_lists_hits_best_first_with_the_contract_keys(index_dir):
    result = run("anti-sponsor blocks proposals", "--index", str(index_dir), "--json", "--k", "3")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 3
    assert {"source", "title", "chunk", "score", "text", "start", "end"} <= set(hits[0])
    assert hits[0]["source"] == "peers.md" and hits[0]["text"] == PEERS[1]
    assert hits[0]["score"] >= max(h["score"] for h in hits[1:])


def test_mode_option_switches_the_ranking_signal(index_dir):
    out = run("specific feedback behaviour", "--index", str(index_dir), "--json", "--mode", "bm25")
    hits = json.loads(out.stdout)
    assert hits[0]["source"] == "feedback.md"
    assert all(h["dense_rank"] is None and h["sparse_rank"] for h in hits)


def test_human_output_shows_titles_sources_and_snippets(index_dir):
    result = run("bottleneck manager decisions", "--index", str(index_dir), "--k", "1")
    assert result.exit_code == 0
    assert "1. delegation.md" in result.stdout and "bottleneck" in result.stdout


def test_default_index_is_filled_from_the_bundled_corpus():
    result = run("sponsors among peers", "--json", "--k", "2")
    assert result.exit_code == 0, result.output
    assert all(h["source"].endswith(".md") for h in json.loads(result.stdout))


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--index", "/no/such/index"],
            "error: no index at /no/such/index; build one with `coach ingest PATH --index /no/such/index`",
        ),
        (["--mode", "fuzzy"], "error: unknown --mode 'fuzzy'"),
    ],
)
def test_bad_options_fail_with_one_line(args, message):
    result = run("peers", *args)
    assert result.exit_code == 2
    assert result.stderr.strip() == result.stderr.strip().splitlines()[0]
    assert result.stderr.startswith(message)


def test_a_folder_that_is_not_an_index_yet_says_how_to_build_one(tmp_path):
    (tmp_path / "fresh").mkdir()
    result = run("peers", "--index", str(tmp_path / "fresh"))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        f"error: no index at {tmp_path / 'fresh'}; build one with `coach ingest PATH --index {tmp_path / 'fresh'}`"
    )


def test_an_empty_explicit_index_says_how_to_fill_it(tmp_path):
    Index.open(load_settings(), tmp_path / "empty").apply({})
    result = run("peers", "--index", str(tmp_path / "empty"))
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert f"coach ingest PATH --index {tmp_path / 'empty'}" in result.stderr


def test_a_damaged_index_is_one_line_that_points_at_doctor(index_dir):
    current = (index_dir / "CURRENT").read_text().strip()
    (index_dir / "gens" / current / "vectors.npy").unlink()
    result = run("peers", "--index", str(index_dir))
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "damaged" in result.stderr and "coach doctor --repair" in result.stderr
