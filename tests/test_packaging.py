"""A non-editable wheel carries the corpus, prompts, evals and UI, and the coach runs from it in any folder."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    return next(out.glob("socratic_coach-*.whl"))


@pytest.mark.slow
def test_wheel_ships_data_folders(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    notes = [n for n in names if n.startswith("agent/_data/corpus/") and n.endswith(".md")]
    assert len(notes) >= 24
    assert "agent/_data/prompts/coach.default.yaml" in names
    assert "agent/coach/data/question_bank.yaml" in names
    assert "agent/_data/evals/thresholds.yaml" in names
    assert "agent/_data/ui/app.py" in names
    assert any(n.endswith("entry_points.txt") for n in names)


@pytest.mark.slow
def test_installed_wheel_coaches_from_another_folder(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "COACH_HOME": str(tmp_path / "home"), "COACH_EMBEDDER": "hash"}
    probe = subprocess.run(
        [sys.executable, "-c", "import agent, agent.core.resources as r; print(agent.__file__); print(r.corpus_dir())"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60, check=True)
    module_file, corpus = probe.stdout.split()
    assert module_file.startswith(str(target)) and corpus.startswith(str(target))
    ask = subprocess.run(
        [sys.executable, "-c", "from agent.cli import main; main()", "ask", "--json",
         "I was promoted to lead my old teammates and I miss doing the real work"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=240)
    assert ask.returncode == 0, ask.stderr
    from agent.core.types import CoachTurn

    turn = CoachTurn.model_validate_json(ask.stdout)
    assert turn.reply and turn.citations
    assert all(c.source.endswith(".md") for c in turn.citations)
