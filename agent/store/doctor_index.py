"""Index checks for `coach doctor`: CURRENT, Chroma vs chunk store, BM25, a test query, leftovers of killed runs."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agent.core.types import Chunk
from agent.index.generation import BM25_B, BM25_DIR, BM25_K1, META, STORE, Generation, bm25_terms, gen_number
from agent.store.checks import Check, ok, one_line, problem, repaired

BATCH = 1000
SAMPLE_IDS = 64  # ids looked up in Chroma on top of the count, spread over the generation


@contextlib.contextmanager
def try_write_lock(root: Path) -> Iterator[bool]:
    """The index's writer lock if nobody holds it (True), else False at once: doctor never waits for an ingest."""
    try:
        fd = os.open(root / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def load_generation(folder: Path) -> tuple[Generation | None, str]:
    """A complete, self-consistent generation, or None and why not."""
    if not folder.is_dir():
        return None, "its folder is missing"
    if not (folder / META).is_file():
        return None, "it is incomplete (no meta.json)"
    try:
        gen = Generation(folder)
    except Exception as exc:  # noqa: BLE001 - any unreadable file means the generation cannot be used
        return None, f"it is unreadable ({one_line(exc)})"
    if gen.vectors.shape[0] != gen.count or int(gen.meta.get("count", gen.count)) != gen.count:
        return None, f"its vectors ({gen.vectors.shape[0]}) do not match its {gen.count} chunks"
    return gen, ""


def _set_current(root: Path, name: str) -> None:
    tmp = root / f"CURRENT.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="ascii") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / "CURRENT")


def current_name(root: Path) -> str:
    return (root / "CURRENT").read_text(encoding="ascii").strip() if (root / "CURRENT").is_file() else ""


def check_current(root: Path, fix: bool, bm25: Check | None = None) -> tuple[Check, Generation | None]:
    """CURRENT names a complete generation; with fix, fall back to the newest complete one."""
    name = current_name(root)
    folders = sorted((p for p in (root / "gens").glob("g*") if gen_number(p.name) is not None),
                     key=lambda p: gen_number(p.name) or 0, reverse=True) if (root / "gens").is_dir() else []
    if name:
        gen, why = load_generation(root / "gens" / name)
        if gen is not None:
            return ok("index.current", f"{name}: {gen.count} chunks from {len(gen.sources())} sources"), gen
        broken = f"CURRENT names {name} but {why}"
        if bm25 is not None and bm25.status == "problem":
            return problem("index.current", f"{name} cannot open until its BM25 index is rebuilt (see index.bm25)"), None
    else:
        if not any((p / META).is_file() for p in folders):
            return ok("index.current", "empty index (nothing ingested yet)"), None
        broken = "CURRENT is missing but complete generations exist"
    if not fix:
        return problem("index.current", f"{broken}; `coach doctor --repair` falls back to the last good one"), None
    for folder in folders:
        if folder.name == name:
            continue
        gen, _ = load_generation(folder)
        if gen is not None:
            _set_current(root, gen.name)
            return repaired("index.current", f"{broken}; CURRENT now {gen.name} ({gen.count} chunks): "
                                             "re-ingest anything added since"), gen
    return problem("index.current", f"{broken} and no complete generation is left: delete {root} and run "
                                     "`coach ingest` again"), None


def check_chroma(index: Any, gen: Generation, fix: bool) -> Check:
    """The generation's Chroma collection holds exactly its chunk ids; with fix, rebuild it from vectors.npy."""
    from chromadb.errors import NotFoundError

    from agent.index.embeddings import chroma_embedding_function, embedder_by_name

    client = index.client()
    ef = chroma_embedding_function(embedder_by_name(gen.embedder))
    try:
        col = client.get_collection(gen.collection, embedding_function=ef)
        n = col.count()
        step = max(1, gen.count // SAMPLE_IDS)
        sample = gen.ids[::step][:SAMPLE_IDS] + gen.ids[-1:]
        found = len(col.get(ids=sample, include=[])["ids"]) if sample else 0
        why = "" if n == gen.count and found == len(set(sample)) else (
            f"collection has {n} vectors for {gen.count} chunks" if n != gen.count
            else f"{len(set(sample)) - found} of {len(set(sample))} sampled chunk ids are missing from it")
    except NotFoundError:
        why = f"Chroma collection {gen.collection} is missing"
    if not why:
        return ok("index.chroma", f"{gen.collection}: {n} vectors match the chunk store")
    if not fix:
        return problem("index.chroma", f"{why}; `coach doctor --repair` rebuilds it from the stored vectors")
    with contextlib.suppress(NotFoundError, ValueError):
        client.delete_collection(gen.collection)
    index.forget_collection(gen.name)
    col = client.create_collection(gen.collection, embedding_function=ef,
                                   metadata={"embedder": gen.embedder, "generation": gen.name})
    for start in range(0, gen.count, BATCH):
        positions = list(range(start, min(start + BATCH, gen.count)))
        chunks = gen.chunks_at(positions)
        col.add(ids=[c.id for c in chunks], embeddings=gen.vectors[start:start + len(positions)],
                metadatas=[{"source": c.source, "chunk": c.chunk} for c in chunks])
    return repaired("index.chroma", f"{why}; rebuilt {col.count()} vectors from {gen.name}/vectors.npy")


def _chunk_count(folder: Path) -> int:
    db = sqlite3.connect(f"file:{folder / STORE}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
    finally:
        db.close()


def _chunks_in_order(folder: Path) -> Iterator[Chunk]:
    """The generation's chunks in position order, straight from its chunk store."""
    db = sqlite3.connect(f"file:{folder / STORE}?mode=ro", uri=True)
    try:
        for (data,) in db.execute("SELECT data FROM chunks ORDER BY pos"):
            yield Chunk.model_validate_json(data)
    finally:
        db.close()


def _rebuild_bm25(folder: Path, count: int) -> None:
    """A fresh BM25 index from the chunk store, written beside the old one and swapped in."""
    fresh = folder / (BM25_DIR + ".rebuild")
    shutil.rmtree(fresh, ignore_errors=True)
    try:
        from agent.index.generation_writer import write_bm25
    except ImportError:  # the writer that streams terms; without it, bm25s builds the same index in memory
        import bm25s

        bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        bm25.index(bm25_terms([c.text for c in _chunks_in_order(folder)]), show_progress=False)
        bm25.save(str(fresh), show_progress=False)
    else:
        write_bm25(fresh, _chunks_in_order(folder), count)
    shutil.rmtree(folder / BM25_DIR, ignore_errors=True)
    os.replace(fresh, folder / BM25_DIR)


def check_bm25(folder: Path, fix: bool) -> Check | None:
    """The BM25 index of a written generation loads and covers every chunk; with fix, rebuild it.

    Runs on the folder before the generation is opened, since a generation without BM25 does not open.
    None when the folder is not a written generation (the current check says what is wrong with it).
    """
    if not (folder / META).is_file() or not (folder / STORE).is_file():
        return None
    try:
        count = _chunk_count(folder)
    except sqlite3.Error:
        return None
    if count == 0:
        return ok("index.bm25", "empty generation: no BM25 index needed")
    import bm25s

    try:
        n = int(bm25s.BM25.load(str(folder / BM25_DIR), show_progress=False).scores["num_docs"])
        why = "" if n == count else f"BM25 covers {n} documents, the chunk store {count}"
    except Exception as exc:  # noqa: BLE001 - a missing or damaged file shows up as many exception types
        why = f"BM25 index of {folder.name} does not load ({one_line(exc)})"
    if not why:
        return ok("index.bm25", f"loads, {n} documents")
    if not fix:
        return problem("index.bm25", f"{why}; `coach doctor --repair` rebuilds it")
    _rebuild_bm25(folder, count)
    return repaired("index.bm25", f"{why}; rebuilt over {count} chunks")


def check_query(index: Any, gen: Generation, settings: Any) -> Check:
    """A hybrid search for the opening words of the first chunk returns hits."""
    if gen.count == 0:
        return ok("index.query", "empty generation: nothing to search")
    from agent.index.retrieval import HybridSearcher

    query = " ".join(gen.chunks_at([0])[0].text.split()[:12]) or "leadership"
    started = time.perf_counter()
    try:
        hits = HybridSearcher(index, settings).search(query, k=3)
    except Exception as exc:  # noqa: BLE001 - whatever breaks a search is what this check reports
        return problem("index.query", f"test search failed: {one_line(exc)}")
    ms = (time.perf_counter() - started) * 1000
    if not hits:
        return problem("index.query", f"test search for {query[:40]!r} found nothing")
    return ok("index.query", f"test search: {len(hits)} hits in {ms:.0f} ms")


def _writer_alive(path: Path) -> bool:
    """Whether the process named in a temp file's name (NAME.<pid>.tmp) is still running."""
    pid = path.name.rsplit(".", 2)[-2] if path.name.count(".") >= 2 else ""
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kept(index: Any, gen: Generation) -> tuple[set[str], set[str]]:
    """Generation folders and Chroma collections that are live: the current one and its predecessor."""
    names = {gen.name, str(gen.meta.get("previous") or "")} - {""}
    cols = {gen.collection}
    for name in names - {gen.name}:
        prev, _ = load_generation(index.gens / name)
        cols.add(prev.collection if prev is not None else index.collection_name(name))
    return names, cols


def check_leftovers(index: Any, gen: Generation | None, root: Path, locked: bool, fix: bool) -> Check:
    """Generation folders, Chroma collections and temp files a killed run left behind; fix deletes them."""
    if not locked:
        return ok("index.leftovers", "skipped: an ingest holds the write lock right now")
    if index is None or gen is None:
        return ok("index.leftovers", "skipped: no current generation to compare with")
    names, cols = _kept(index, gen)
    folders = [p for p in index.gens.iterdir() if p.name not in names]
    temps = [p for p in root.glob("*.tmp") if p.is_file() and not _writer_alive(p)]
    prefix = f"coach_{index.namespace}_"
    client = index.client()
    listed = [c if isinstance(c, str) else c.name for c in client.list_collections()]
    collections = [c for c in listed if c.startswith(prefix) and c not in cols]
    found = ", ".join(f"{len(v)} {k}" for k, v in (("generation folders", folders), ("Chroma collections",
                      collections), ("temp files", temps)) if v)
    if not found:
        return ok("index.leftovers", "no leftover generations, collections or temp files")
    if not fix:
        return problem("index.leftovers", f"{found} left by an interrupted run; `coach doctor --repair` "
                                          "removes them")
    for path in folders:
        shutil.rmtree(path, ignore_errors=True)
    for path in temps:
        path.unlink(missing_ok=True)
    for name in collections:
        with contextlib.suppress(Exception):
            client.delete_collection(name)
    return repaired("index.leftovers", f"removed {found}")


def check_index(settings: Any, root: Path, repair: bool) -> list[Check]:
    """All index checks, in order; later ones are skipped when there is no usable current generation."""
    if not (root / "gens").is_dir() and not (root / "CURRENT").exists():
        return [ok("index.current", f"no index yet at {root} (`coach ingest` or the first chat builds one)")]
    with try_write_lock(root) as locked:
        checks = [ok("index.lock", "write lock free" if locked else "an ingest is writing (lock held by a "
                     "live process; a killed one releases it)")]
        name = current_name(root)
        bm25 = check_bm25(root / "gens" / name, repair and locked) if name else None
        current, gen = check_current(root, repair and locked, bm25)
        checks.append(current)
        if bm25 is not None:
            checks.append(bm25)
        if gen is None:
            return checks
        try:
            from agent.index.generations import Index

            index = Index.open(settings, root)
            checks.append(check_chroma(index, gen, repair and locked))
            checks.append(check_query(index, index.generation or gen, settings))
            checks.append(check_leftovers(index, gen, root, locked, repair))
        except Exception as exc:  # noqa: BLE001 - a check that cannot run is itself a problem to report
            checks.append(problem("index", f"could not check the index: {one_line(exc)}"))
    return checks
