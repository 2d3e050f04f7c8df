"""Ingest throughput with the real MiniLM model, beside the model's own throughput on the same chunks.

Prints one JSON object. Each phase runs in its own interpreter so its peak RSS is its own.
  .venv/bin/python benchmarks/bench_ingest.py [--quick]   (--quick: the seed articles only)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, emit, machine, peak_rss_mb, run_phase

SEEDS = ROOT.parent / "shared" / "seeds"
CORPUS = ROOT / "corpus"


def _settings(home: Path):
    from agent.core.settings import load_settings

    return load_settings(home=home, embedder="minilm", chroma_url="", index_bundled_corpus=False)


def _warm(settings) -> float:
    from agent.index.embeddings import get_embedder

    started = time.perf_counter()
    get_embedder(settings).embed(["warm up"])
    return time.perf_counter() - started


def phase_ingest(docs: Path, home: Path) -> dict:
    """Time a full ingest of `docs` into a fresh index (model already loaded), then a one-file change."""
    from agent.ingest.pipeline import ingest_paths

    settings = _settings(home)
    load_s = _warm(settings)
    started = time.perf_counter()
    report = ingest_paths([docs], settings)
    seconds = time.perf_counter() - started
    assert not report.failed, report.failed
    changed = min(p for p in (docs / "seeds").iterdir() if p.is_file())
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\n\nOne more paragraph for the change test.\n",
        encoding="utf-8",
    )
    started = time.perf_counter()
    again = ingest_paths([docs], settings)
    reingest_s = time.perf_counter() - started
    return {
        "chunks": report.chunks,
        "files": report.files,
        "seconds": round(seconds, 2),
        "chunks_per_s": round(report.chunks / seconds, 2),
        "model_load_s": round(load_s, 2),
        "reingest_one_changed_file": {
            "seconds": round(reingest_s, 2),
            "chunks_embedded": again.chunks,
            "unchanged_files": len(again.unchanged),
        },
        "peak_rss_mb": peak_rss_mb(),
    }


def phase_embed(docs: Path, home: Path) -> dict:
    """Chunk the same files (untimed), then time only the model embedding those chunk texts."""
    from agent.index.embeddings import get_embedder
    from agent.ingest.chunking import chunk_document
    from agent.ingest.loaders import load
    from agent.ingest.pipeline import collect_files

    settings = _settings(home)
    files, _ = collect_files([docs])
    texts = [c.text for f in files for c in chunk_document(load(f, 50 * 2**20))]
    _warm(settings)
    started = time.perf_counter()
    get_embedder(settings).embed(texts)
    seconds = time.perf_counter() - started
    return {
        "chunks": len(texts),
        "seconds": round(seconds, 2),
        "chunks_per_s": round(len(texts) / seconds, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="seed articles only")
    parser.add_argument("--phase", choices=["ingest", "embed"])
    parser.add_argument("--docs", type=Path)
    parser.add_argument("--home", type=Path)
    args = parser.parse_args()
    if args.phase:
        emit((phase_ingest if args.phase == "ingest" else phase_embed)(args.docs, args.home), compact=True)
        return
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        docs = Path(tmp) / "docs"
        shutil.copytree(SEEDS, docs / "seeds")
        if not args.quick:
            shutil.copytree(CORPUS, docs / "corpus")
        # The model's own rate first, then ingest, on identical copies of the same files.
        embed = run_phase(Path(__file__), "--phase", "embed", "--docs", str(docs), "--home", f"{tmp}/h1")
        ingest = run_phase(Path(__file__), "--phase", "ingest", "--docs", str(docs), "--home", f"{tmp}/h2")
    emit(
        {
            "benchmark": "ingest",
            "model": "all-MiniLM-L6-v2 int8 (onnxruntime)",
            "quick": args.quick,
            "docs": "seeds" + ("" if args.quick else " + corpus"),
            "ingest": ingest,
            "embed_only": embed,
            "ingest_vs_embed_throughput": round(ingest["chunks_per_s"] / embed["chunks_per_s"], 3),
            "note": "ingest = load + clean + chunk + embed + Chroma + BM25 + store + fsync; model preloaded",
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
