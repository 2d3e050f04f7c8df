"""The ingest pipeline and `coach ingest` on a real index (hash embedder): incremental, atomic, forgiving."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.core.settings import load_settings
from agent.index.generations import Index
from agent.ingest.pipeline import collect_files, ingest_paths

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(FIXTURES, folder)
    return folder


@pytest.fixture
def applies(monkeypatch) -> list[dict]:
    """Every Index.apply call's upserts, recorded, with the real apply still run."""
    calls: list[dict] = []
    real = Index.apply

    def spy(self, upserts, removals=(), progress=None):
        calls.append({name: (sha, [c.id for c in chunks]) for name, (sha, chunks) in upserts.items()})
        return real(self, upserts, removals, progress)

    monkeypatch.setattr(Index, "apply", spy)
    return calls


def test_first_run_adds_everything_in_one_apply_and_rerun_changes_nothing(corpus, applies):
    settings = load_settings()
    first = ingest_paths([corpus], settings)
    assert sorted(first.added) == ["note.md", "page.html", "prose.txt"] and not first.failed
    assert len(applies) == 1 and set(applies[0]) == {"note.md", "page.html", "prose.txt"}
    index = Index.open(settings)
    assert index.count() == first.chunks > 0
    assert {s: i.n_chunks for s, i in index.sources().items()} == {
        s: len(ids) for s, (_, ids) in applies[0].items()
    }

    again = ingest_paths([corpus], settings)
    assert sorted(again.unchanged) == ["note.md", "page.html", "prose.txt"] and again.chunks == 0
    assert len(applies) == 1, "an unchanged run must not write a generation"
    assert again.summary() == "ingested 3 files (0 added, 0 updated, 3 unchanged), 0 chunks; 0 failed"


def test_changed_file_replaces_its_chunks_only(corpus, applies):
    settings = load_settings()
    ingest_paths([corpus], settings)
    note = corpus / "note.md"
    note.write_text(note.read_text().replace("offer to pause until tomorrow", "agree a time to finish it"))
    report = ingest_paths([corpus], settings)
    assert report.updated == ["note.md"] and sorted(report.unchanged) == ["page.html", "prose.txt"]
    assert len(applies) == 2 and set(applies[1]) == {"note.md"}
    texts = " ".join(c.text for c in Index.open(settings).chunks_for("note.md"))
    assert "agree a time to finish it" in texts and "pause until tomorrow" not in texts


def test_bad_inputs_fail_one_by_one_and_the_rest_goes_in(corpus, tmp_path):
    settings = load_settings(max_file_mb=0.01)
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "blob.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (corpus / "huge.txt").write_text("Long enough. " * 2000)
    (tmp_path / "nothing-here").mkdir()
    (tmp_path / "nothing-here" / "data.csv").write_text("a,b\n")
    explicit = tmp_path / "slides.pptx"
    explicit.write_text("x")
    report = ingest_paths([corpus, tmp_path / "missing.md", tmp_path / "nothing-here", explicit], settings)
    reasons = {Path(p).name: r for p, r in report.failed}
    assert sorted(reasons) == [
        "blob.txt",
        "empty.md",
        "huge.txt",
        "missing.md",
        "nothing-here",
        "slides.pptx",
    ]
    assert reasons["empty.md"] == "empty file" and "binary" in reasons["blob.txt"]
    assert "too large" in reasons["huge.txt"] and reasons["missing.md"] == "no such file or folder"
    assert (
        "no supported files" in reasons["nothing-here"] and "unsupported file type" in reasons["slides.pptx"]
    )
    assert sorted(report.added) == ["note.md", "page.html", "prose.txt"]
    assert set(Index.open(settings).sources()) == {"note.md", "page.html", "prose.txt"}


def test_folder_walk_skips_hidden_and_unknown_files(tmp_path):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    for rel in (
        "a.md",
        "sub/b.TXT",
        "sub/deeper/c.htm",
        ".hidden.md",
        ".git/d.md",
        "sub/e.docx",
        "f",
        "README.md",
    ):
        (tmp_path / rel).write_text("Some words.")
    files, failed = collect_files([tmp_path, tmp_path / "a.md"])
    assert [p.relative_to(tmp_path).as_posix() for p in files] == ["a.md", "sub/b.TXT", "sub/deeper/c.htm"]
    assert collect_files([tmp_path / "README.md"])[0] == [
        tmp_path / "README.md"
    ]  # named explicitly: ingested
    assert failed == []


def test_same_file_name_twice_in_one_batch_is_refused(tmp_path):
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.md").write_text(f"Notes from folder {folder}, with enough words.")
    report = ingest_paths([tmp_path], load_settings())
    assert (
        report.added == ["notes.md"]
        and len(report.failed) == 1
        and "another file named" in report.failed[0][1]
    )


def test_failed_apply_leaves_the_previous_generation(corpus, monkeypatch):
    settings = load_settings()
    ingest_paths([corpus], settings)
    before = Index.open(settings).sources()
    for i in range(40):
        (corpus / f"extra{i}.md").write_text(f"# Extra {i}\n\n" + "A sentence about peers and trust. " * 60)
    import agent.index.writer as writer

    real_add = writer.GenerationBuilder._add
    calls = []

    def crash_midway(self, batch, vectors):
        calls.append(len(batch))
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real_add(self, batch, vectors)

    monkeypatch.setattr(writer.GenerationBuilder, "_add", crash_midway)
    with pytest.raises(RuntimeError):
        ingest_paths([corpus], settings)
    assert Index.open(settings).sources() == before


def test_progress_reports_files_then_chunks(corpus):
    seen: list[tuple[str, int, int]] = []
    ingest_paths([corpus], load_settings(), progress=lambda *a: seen.append(a))
    assert [s for s in seen if s[0] == "read"] == [("read", 1, 3), ("read", 2, 3), ("read", 3, 3)]
    index_steps = [s for s in seen if s[0] == "index"]
    assert index_steps and index_steps[-1][1] == index_steps[-1][2]


def _run(*args: str):
    return CliRunner().invoke(app, ["ingest", *args])


def test_cli_exit_codes_summary_and_one_line_errors(corpus, tmp_path):
    index = tmp_path / "idx"
    ok = _run(str(corpus), "--index", str(index))
    assert ok.exit_code == 0, ok.output
    assert (
        ok.stdout.strip() == "ingested 3 files (3 added, 0 updated, 0 unchanged), "
        f"{Index.open(load_settings(), index).count()} chunks; 0 failed"
    )
    (corpus / "empty.txt").write_text("")
    bad = _run(str(corpus), str(tmp_path / "gone.md"), "--index", str(index))
    assert bad.exit_code == 1
    assert bad.stdout.strip() == "ingested 3 files (0 added, 0 updated, 3 unchanged), 0 chunks; 2 failed"
    errors = bad.stderr.strip().splitlines()
    assert sorted(errors) == sorted(
        [
            f"error: {tmp_path / 'gone.md'}: no such file or folder",
            f"error: {corpus / 'empty.txt'}: empty file",
        ]
    )
    assert _run().exit_code == 2


def test_cli_progress_lines_on_long_runs_unless_quiet(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(25):
        (folder / f"n{i:02}.md").write_text(f"# Note {i}\n\nA short note about delegating task {i} well.")
    loud = _run(str(folder), "--index", str(tmp_path / "i1"))
    assert (
        loud.exit_code == 0
        and "reading files: 25/25" in loud.stderr
        and "indexing chunks: 25/25" in loud.stderr
    )
    quiet = _run(str(folder), "--index", str(tmp_path / "i2"), "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    few = _run(str(FIXTURES), "--index", str(tmp_path / "i3"))
    assert few.exit_code == 0 and few.stderr == ""  # short run, not a terminal: no progress noise


def test_terminal_gets_a_rich_progress_bar():
    import io

    from rich.console import Console

    from agent.cli.ingest_cmd import ProgressReporter

    out = io.StringIO()
    reporter = ProgressReporter(tty=True, console=Console(file=out, force_terminal=True, width=100))
    for done in range(1, 4):
        reporter("read", done, 3)
    reporter("index", 7, 7)
    reporter.close()
    assert (
        "reading files" in out.getvalue() and "3/3" in out.getvalue() and "indexing chunks" in out.getvalue()
    )


def test_cli_config_error_is_one_line_and_exit_2(monkeypatch, corpus):
    monkeypatch.setenv("COACH_MAX_FILE_MB", "-1")
    result = _run(str(corpus))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: bad setting max_file_mb") and result.stderr.count("\n") == 1
