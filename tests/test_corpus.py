"""The bundled corpus: note front matter, coverage of every seed article, the retrieval questions, and no copied text."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
QUESTIONS = ROOT / "evals" / "retrieval" / "questions.yaml"
FIELDS = ("title", "source_title", "author", "link", "tags")
CRAFT = "Coaching craft"
RUN = 10  # the team rule: no run of this many consecutive words from a seed article
MIN_NOTES = 24
MIN_WORDS = 120
MIN_QUESTIONS = 36
MIN_PER_SEED = 6


def split_note(path: Path) -> tuple[dict, str]:
    """Return a note's front matter and body; fail the test if the front matter is missing or malformed."""
    text = path.read_text(encoding="utf-8")
    match = re.match(r"\A---\n(.*?)\n---\n(.*)\Z", text, re.DOTALL)
    assert match, f"{path.name}: no YAML front matter"
    meta = yaml.safe_load(match.group(1))
    assert isinstance(meta, dict), f"{path.name}: front matter is not a mapping"
    return meta, match.group(2)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def shingles(tokens: list[str], n: int) -> set[str]:
    return {" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def note_paths() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*.md") if p.name != "README.md")


NOTES = note_paths()


def test_corpus_has_enough_notes():
    assert len(NOTES) >= MIN_NOTES


@pytest.mark.parametrize("path", NOTES, ids=lambda p: p.name)
def test_note_front_matter_and_body(path: Path):
    meta, body = split_note(path)
    for field in FIELDS:
        assert meta.get(field), f"{path.name}: {field} missing or empty"
    for field in FIELDS[:4]:
        assert isinstance(meta[field], str), f"{path.name}: {field} should be a string"
    assert isinstance(meta["tags"], list) and all(isinstance(t, str) and t for t in meta["tags"])
    assert meta["link"].startswith("http"), f"{path.name}: link must be a URL"
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*\.md", path.name), f"{path.name}: not kebab-case"
    assert re.search(r"^#{1,3} ", body, re.MULTILINE), f"{path.name}: no Markdown heading"
    assert len(body.split()) >= MIN_WORDS, f"{path.name}: body under {MIN_WORDS} words"


def test_every_seed_is_the_source_of_at_least_two_notes(seeds_dir: Path):
    counts = Counter(split_note(p)[0]["source_title"] for p in NOTES)
    article_titles = [t for t in counts if t != CRAFT]
    assert len(article_titles) == len(list(seeds_dir.glob("*.txt"))), counts
    for title in article_titles:
        assert counts[title] >= 2, f"only {counts[title]} note(s) draw on {title!r}"
    assert counts[CRAFT] >= 2


def test_no_note_repeats_a_run_of_seed_words(seeds_dir: Path):
    seed_runs: dict[str, str] = {}
    for seed in sorted(seeds_dir.glob("*.txt")):
        for run in shingles(words(seed.read_text(errors="replace")), RUN):
            seed_runs.setdefault(run, seed.name)
    assert seed_runs, "no seed text was read"
    for path in sorted(CORPUS.glob("*.md")):
        copied = {seed_runs[r] for r in shingles(words(path.read_text(encoding="utf-8")), RUN) if r in seed_runs}
        assert not copied, f"{path.name} repeats {RUN}+ words from {sorted(copied)}"


def load_questions() -> list[dict]:
    data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("questions"), list)
    return data["questions"]


def test_questions_are_well_formed_and_point_at_real_files(seeds_dir: Path):
    questions = load_questions()
    assert len(questions) >= MIN_QUESTIONS
    seeds = {p.name for p in seeds_dir.glob("*.txt")}
    notes = {p.name for p in NOTES}
    for item in questions:
        assert isinstance(item.get("q"), str) and len(item["q"].split()) >= 5, item
        assert item.get("expect") in seeds, f"unknown seed {item.get('expect')!r}"
        assert item.get("expect_note") in notes, f"unknown note {item.get('expect_note')!r}"
    assert len({item["q"] for item in questions}) == len(questions), "duplicate question"


def test_each_seed_has_enough_questions(seeds_dir: Path):
    per_seed = Counter(item["expect"] for item in load_questions())
    for seed in sorted(seeds_dir.glob("*.txt")):
        assert per_seed[seed.name] >= MIN_PER_SEED, f"{seed.name}: {per_seed[seed.name]} questions"


def test_questions_do_not_quote_the_seeds(seeds_dir: Path):
    # A question that quotes its article would make the retrieval eval trivially easy.
    seed_runs = set()
    for seed in seeds_dir.glob("*.txt"):
        seed_runs |= shingles(words(seed.read_text(errors="replace")), 6)
    for item in load_questions():
        quoted = shingles(words(item["q"]), 6) & seed_runs
        assert not quoted, f"{item['q']!r} quotes {sorted(quoted)}"
