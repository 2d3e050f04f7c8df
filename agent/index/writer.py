"""Builds one new index generation: copies kept chunks' vectors from Chroma, embeds new ones, writes files.

Everything streams in batches: kept sources are read a group at a time, vectors go straight to Chroma and to
the generation folder, so memory grows with the batch, not with the index.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from agent.core.types import Chunk
from agent.index.embeddings import Embedder, chroma_embedding_function
from agent.index.generation import Generation, SourceInfo, gen_name
from agent.index.generation_writer import GenerationWriter


class IndexLike(Protocol):
    """What a builder needs of the Index (agent.index.generations.Index), named here so the two modules do not
    import each other."""

    gens: Path

    @property
    def generation(self) -> Generation | None: ...

    def client(self) -> Any: ...

    def collection_name(self, gen: str) -> str: ...

    def collection(self, gen: Generation, embedder: Embedder) -> Any: ...

    def new_meta(self, name: str, embedder: Embedder) -> dict[str, Any]: ...


COPY_BATCH = 1000  # ids per Chroma get/add; well under Chroma's max batch size
EMBED_BATCH = 32
AHEAD = 128  # new chunks embedded while Chroma opens (about 1.3 s of the model); a multiple of EMBED_BATCH, so
# the batches, and so the vectors, are the ones build() alone would make


class GenerationBuilder:
    """Fills a fresh collection and generation folder; nothing here touches the live generation."""

    def __init__(self, index: IndexLike, embedder: Embedder, number: int) -> None:
        self.index = index
        self.embedder = embedder
        self.name = gen_name(number)
        self.folder = index.gens / self.name
        self._pending: list[tuple[Chunk, np.ndarray]] = []
        self._col: Any = None
        self._writer: Any = None
        self._pos: dict[str, int] = {}
        self._total = self._done = 0
        self._planned: tuple[dict[str, SourceInfo], dict[str, tuple[SourceInfo, list[Chunk]]], Any] | None = None
        self._early: dict[str, np.ndarray] = {}
        self._ahead: threading.Thread | None = None
        self._ahead_error: BaseException | None = None
        self._ready = threading.Event()

    @staticmethod
    def unchanged(
        cur: Generation, source: str, sha: str, chunks: list[Chunk], old: SourceInfo | None
    ) -> bool:
        """Same file bytes and the same chunk ids as the live generation: its vectors can be copied."""
        return old is not None and old.sha256 == sha and cur.ids_for(source) == [c.id for c in chunks]

    @classmethod
    def is_noop(
        cls,
        cur: Generation,
        embedder: Embedder,
        upserts: dict[str, tuple[str, list[Chunk]]],
        removals: set[str],
    ) -> bool:
        """True when applying would rebuild exactly the live generation."""
        old = cur.sources()
        return (
            cur.embedder == embedder.name
            and not removals & set(old)
            and all(cls.unchanged(cur, s, sha, chunks, old.get(s)) for s, (sha, chunks) in upserts.items())
        )

    def build(
        self,
        upserts: dict[str, tuple[str, list[Chunk]]],
        removals: set[str],
        progress: Callable[[int, int], None] | None,
    ) -> str:
        cur = self.index.generation
        kept, fresh, copy_from = self._plan(upserts, removals)
        # Every chunk's final position (by source, then chunk number) is fixed before anything is written,
        # so batches can land in any order and no list of all records is ever held.
        ids: dict[str, list[str]] = {s: cur.ids_for(s) for s in kept} if cur else {}
        ids.update(
            {s: [c.id for c in sorted(chunks, key=lambda c: c.chunk)] for s, (_, chunks) in fresh.items()}
        )
        self._pos = {cid: n for n, cid in enumerate(cid for s in sorted(ids) for cid in ids[s])}
        del ids

        client = self.index.client()
        col_name = self.index.collection_name(self.name)
        if col_name in {c if isinstance(c, str) else c.name for c in client.list_collections()}:
            client.delete_collection(col_name)
        self._col = client.create_collection(
            col_name,
            embedding_function=chroma_embedding_function(self.embedder),
            metadata={"embedder": self.embedder.name, "generation": self.name},
        )
        self._writer = GenerationWriter(self.folder, len(self._pos), self.embedder.dim)
        try:
            fresh_chunks = [c for _, chunks in fresh.values() for c in chunks]
            self._total = len(fresh_chunks) + (0 if copy_from else sum(i.n_chunks for i in kept.values()))
            self._done = 0
            missing: list[Chunk] = []
            for group in _source_groups(kept, COPY_BATCH):
                chunks = [c for s in group for c in cur.chunks_for(s)]
                if copy_from is not None:
                    missing += self._copy(chunks, copy_from)
                else:
                    self._embed(chunks, progress)
            self._total += len(missing)
            self._embed(missing + fresh_chunks, progress)
            self._flush()
            sources = {**kept, **{s: info for s, (info, _) in fresh.items()}}
            self._writer.finish(dict(sorted(sources.items())), self.index.new_meta(self.name, self.embedder))
        except BaseException:
            self._writer.abort()
            raise
        return self.name

    def _plan(self, upserts: dict[str, tuple[str, list[Chunk]]], removals: set[str]) -> tuple[Any, Any, Any]:
        """(kept, fresh, copy_from): sources whose vectors are copied, sources to embed, and the copies' origin."""
        if self._planned is None:
            cur = self.index.generation
            old = cur.sources() if cur else {}
            reuse = cur is not None and cur.embedder == self.embedder.name
            kept = {s: info for s, info in old.items() if s not in removals and s not in upserts}
            fresh: dict[str, tuple[SourceInfo, list[Chunk]]] = {}
            for source, (sha, chunks) in upserts.items():
                before = old.get(source)
                if reuse and self.unchanged(cur, source, sha, chunks, before):
                    kept[source] = before  # copy, don't re-embed
                else:
                    fresh[source] = (_source_info(source, sha, chunks), chunks)
            # Vectors from another embedder live in another space: kept chunks are re-embedded.
            self._planned = (kept, fresh, cur if reuse else None)
        return self._planned

    def embed_ahead(self, upserts: dict[str, tuple[str, list[Chunk]]], removals: set[str],
                    count: int | None = None) -> None:
        """Embed the first `count` new chunks in a thread while the caller imports and opens Chroma.

        Why: importing chromadb and opening its store took 0.6 s of a 2.9 s ingest before the model started;
        onnxruntime releases the GIL, so the two overlap. The batches are the ones build() would run, so the
        vectors are the same."""
        _, fresh, _ = self._plan(upserts, removals)
        chunks = sorted((c for _, cs in fresh.values() for c in cs), key=lambda c: len(c.text))
        chunks = chunks[: AHEAD if count is None else count]

        def run() -> None:
            try:
                for start in range(0, len(chunks), EMBED_BATCH):
                    batch = chunks[start : start + EMBED_BATCH]
                    self._early.update(zip([c.id for c in batch], self.embedder.embed([c.text for c in batch])))
            except BaseException as exc:  # noqa: BLE001 - re-raised by the build that needs these vectors
                self._ahead_error = exc
            finally:
                self._ready.set()
            # bm25s (with scipy, 0.2 s) is needed only at the end: imported while build() runs the model.
            with contextlib.suppress(ImportError):
                import bm25s  # noqa: F401

        if chunks:
            self._ahead = threading.Thread(target=run, name="embed-ahead", daemon=True)
            self._ahead.start()

    def settle(self) -> None:
        """Wait for the embed-ahead thread, if any (Index.apply does, whatever happened); its error, if it had one,
        is raised by the next _vectors."""
        if self._ahead is not None:
            self._ahead.join()
            self._ahead = None

    def _vectors(self, batch: list[Chunk]) -> np.ndarray:
        """The batch's vectors: embedded ahead when the whole batch was, else now (same batch, same vectors)."""
        if self._ahead is not None:
            self._ready.wait()
        if self._ahead_error is not None:
            error, self._ahead_error = self._ahead_error, None
            raise error
        early = [self._early.pop(c.id, None) for c in batch]
        if all(v is not None for v in early):
            return np.stack(early)
        return self.embedder.embed([c.text for c in batch])

    def _embed(self, chunks: list[Chunk], progress: Callable[[int, int], None] | None) -> None:
        """Embed in batches of similar length (less padding for the model), reporting progress."""
        ordered = sorted(chunks, key=lambda c: len(c.text))
        for start in range(0, len(ordered), EMBED_BATCH):
            batch = ordered[start : start + EMBED_BATCH]
            self._add(batch, self._vectors(batch))
            self._done += len(batch)
            if progress:
                progress(self._done, self._total)

    def _copy(self, chunks: list[Chunk], cur: Generation) -> list[Chunk]:
        """Copy stored vectors of unchanged chunks into the new collection; return any Chroma lacked."""
        if not chunks:
            return []
        old_col = self.index.collection(cur, self.embedder)
        missing: list[Chunk] = []
        for start in range(0, len(chunks), COPY_BATCH):
            batch = chunks[start : start + COPY_BATCH]
            got = old_col.get(ids=[c.id for c in batch], include=["embeddings"])
            by_id = dict(zip(got["ids"], got["embeddings"]))
            found = [c for c in batch if by_id.get(c.id) is not None]
            missing += [c for c in batch if by_id.get(c.id) is None]
            if found:
                self._add(found, np.asarray([by_id[c.id] for c in found], dtype=np.float32))
        return missing

    def _add(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        self._writer.add([self._pos[c.id] for c in chunks], chunks, vectors)
        self._pending.extend(zip(chunks, vectors))
        if len(self._pending) >= COPY_BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        self._col.add(
            ids=[c.id for c, _ in self._pending],
            embeddings=np.stack([v for _, v in self._pending]),
            metadatas=[{"source": c.source, "chunk": c.chunk} for c, _ in self._pending],
        )
        self._pending = []


def _source_groups(sources: dict[str, SourceInfo], size: int) -> list[list[str]]:
    """Source names in sorted order, grouped so that each group holds about `size` chunks."""
    groups: list[list[str]] = [[]]
    filled = 0
    for name in sorted(sources):
        if groups[-1] and filled + sources[name].n_chunks > size:
            groups.append([])
            filled = 0
        groups[-1].append(name)
        filled += sources[name].n_chunks
    return [g for g in groups if g]


def _source_info(source: str, sha: str, chunks: list[Chunk]) -> SourceInfo:
    first = chunks[0] if chunks else None
    return SourceInfo(
        source=source,
        sha256=sha,
        n_chunks=len(chunks),
        title=first.title if first else "",
        link=first.link if first else "",
    )
