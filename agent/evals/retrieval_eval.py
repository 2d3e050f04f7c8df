"""Retrieval quality: hit@1, hit@3 and MRR per search mode, on a fresh index of one folder of documents."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from agent.core.errors import ConfigError

DEPTH = 10  # MRR is computed over this many results (MRR@10)
DEFAULT_MODES = ("hybrid", "dense", "bm25")


def load_questions(path: Path, expect_key: str = "expect") -> list[tuple[str, str]]:
    """(question, expected source file name) pairs; questions without `expect_key` are skipped."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read retrieval questions {path}: {exc}") from None
    items = data.get("questions", data) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ConfigError(f"{path}: expected a list of questions")
    pairs = [(str(q["q"]), str(q[expect_key])) for q in items if isinstance(q, dict) and q.get(expect_key)]
    if not pairs:
        raise ConfigError(f"{path}: no questions with {expect_key!r}")
    return pairs


def rank_of(sources: list[str], expected: str) -> int | None:
    """1-based rank of the first result from `expected`, or None."""
    return next((n for n, s in enumerate(sources, 1) if s == expected), None)


def score(top3_ranks: list[int | None], deep_ranks: list[int | None]) -> dict[str, float]:
    """hit@1 and hit@3 from k=3 searches (what the coach asks for), MRR@10 from k=10 searches."""
    n = max(len(top3_ranks), 1)
    return {
        "hit@1": sum(r == 1 for r in top3_ranks) / n,
        "hit@3": sum(r is not None for r in top3_ranks) / n,
        "mrr": sum(1 / r for r in deep_ranks if r) / n,
    }


def evaluate(
    questions_yaml: Path,
    settings: Any,
    modes: tuple[str, ...] = DEFAULT_MODES,
    docs_dir: Path | None = None,
    expect_key: str = "expect",
    embedder: str = "minilm",
) -> dict:
    """Index ONLY `docs_dir` (default: the seed articles) into a fresh temp index and score each mode."""
    from agent.index.retrieval import HybridSearcher
    from agent.ingest.pipeline import ingest_paths

    docs = Path(docs_dir) if docs_dir else Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
    if not docs.is_dir():
        raise ConfigError(f"documents folder {docs} not found")
    questions = load_questions(questions_yaml, expect_key)
    with tempfile.TemporaryDirectory(prefix="coach-retrieval-eval-") as tmp:
        run_settings = settings.model_copy(
            update={"home": Path(tmp), "embedder": embedder, "chroma_url": "", "index_bundled_corpus": False}
        )
        started = time.perf_counter()
        report = ingest_paths([docs], run_settings, index_path=Path(tmp) / "index")
        if report.failed:
            raise ConfigError(f"could not ingest {report.failed[0][0]}: {report.failed[0][1]}")
        from agent.index.generations import Index

        index = Index.open(run_settings, Path(tmp) / "index")
        searcher = HybridSearcher(index, run_settings)
        result: dict[str, Any] = {
            "questions": len(questions),
            "docs": str(docs),
            "chunks": index.count(),
            "embedder": searcher.embedder.name,
            "expect_key": expect_key,
            "index_seconds": round(time.perf_counter() - started, 2),
            "modes": {},
        }
        vectors = searcher.embedder.embed([q for q, _ in questions])  # once, shared by every mode
        for mode in modes:
            top3, deep, misses = [], [], []
            for (question, expected), vector in zip(questions, vectors, strict=True):
                hits = searcher.search(question, k=3, mode=mode, query_vector=vector)  # type: ignore[arg-type]
                top3.append(rank_of([h.chunk.source for h in hits], expected))
                more = searcher.search(question, k=DEPTH, mode=mode, query_vector=vector)  # type: ignore[arg-type]
                deep.append(rank_of([h.chunk.source for h in more], expected))
                if top3[-1] is None:
                    misses.append(
                        {
                            "q": question,
                            "expect": expected,
                            "rank@10": deep[-1],
                            "got": [h.chunk.source for h in hits],
                        }
                    )
            result["modes"][mode] = {
                **{k: round(v, 4) for k, v in score(top3, deep).items()},
                "misses": misses,
            }
    return result


def main() -> None:
    """Print the evaluation as JSON: python -m agent.evals.retrieval_eval [--docs DIR]."""
    import argparse
    import json

    from agent.core.resources import evals_dir
    from agent.core.settings import load_settings

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--questions", type=Path, default=evals_dir() / "retrieval" / "questions.yaml")
    parser.add_argument("--docs", type=Path, default=None, help="folder to index (default: ../shared/seeds)")
    parser.add_argument("--expect-key", default="expect", help="expect (seeds) or expect_note (corpus)")
    parser.add_argument("--embedder", default="minilm")
    args = parser.parse_args()
    print(
        json.dumps(
            evaluate(
                args.questions,
                load_settings(),
                docs_dir=args.docs,
                expect_key=args.expect_key,
                embedder=args.embedder,
            ),
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
