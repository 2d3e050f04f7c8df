"""Builds one new index generation: copies kept chunks' vectors from Chroma, embeds new ones, writes files."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from agent.embeddings import Embedder, chroma_embedding_function
from agent.generation import Generation, SourceInfo, gen_name, write_generation
from agent.types import Chunk

if TYPE_CHECKING:
    from agent.index import Index

COPY_BATCH = 1000  # ids per Chroma get/add; well under Chroma's max batch size
EMBED_BATCH = 32


class GenerationBuilder:
    """Fills a fresh collection and generation folder; nothing here touches the live generation."""

    def __init__(self, index: Index, embedder: Embedder, number: int) -> None:
        self.index = index
        self.embedder = embedder
        self.name = gen_name(number)
        self.folder = index.gens / self.name
        self._pending: list[tuple[Chunk, np.ndarray]] = []
        self.records: list[tuple[Chunk, np.ndarray]] = []
        self._col: Any = None

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
        if not reuse and cur is not None:
            # Vectors from another embedder live in another space: re-embed the kept texts.
            fresh.update({s: (info, cur.chunks_for(s)) for s, info in kept.items()})
            kept = {}

        client = self.index.client()
        col_name = self.index.collection_name(self.name)
        if col_name in {c if isinstance(c, str) else c.name for c in client.list_collections()}:
            client.delete_collection(col_name)
        self._col = client.create_collection(
            col_name,
            embedding_function=chroma_embedding_function(self.embedder),
            metadata={"embedder": self.embedder.name, "generation": self.name},
        )

        kept_chunks = [c for s in sorted(kept) for c in cur.chunks_for(s)] if cur else []
        missing = self._copy(kept_chunks, cur)
        todo = missing + [c for _, chunks in fresh.values() for c in chunks]
        todo.sort(key=lambda c: len(c.text))  # similar lengths per batch: less padding for the model
        for start in range(0, len(todo), EMBED_BATCH):
            batch = todo[start : start + EMBED_BATCH]
            self._add(batch, self.embedder.embed([c.text for c in batch]))
            if progress:
                progress(start + len(batch), len(todo))
        self._flush()

        self.records.sort(key=lambda r: (r[0].source, r[0].chunk))
        sources = {**kept, **{s: info for s, (info, _) in fresh.items()}}
        vectors = (
            np.stack([v for _, v in self.records])
            if self.records
            else np.zeros((0, self.embedder.dim), np.float32)
        )
        write_generation(
            self.folder,
            [c for c, _ in self.records],
            vectors,
            dict(sorted(sources.items())),
            self.index.new_meta(self.name, self.embedder),
        )
        return self.name

    def _copy(self, chunks: list[Chunk], cur: Any) -> list[Chunk]:
        """Copy stored vectors of unchanged chunks into the new collection; return any Chroma lacked."""
        if not chunks:
            return []
        old_col = self.index.collection(cur, self.embedder)
        missing: list[Chunk] = []
        for start in range(0, len(chunks), COPY_BATCH):
            batch = chunks[start : start + COPY_BATCH]
            got = old_col.get(ids=[c.id for c in batch], include=["embeddings"])
            by_id = dict(zip(got["ids"], got["embeddings"]))
            for chunk in batch:
                vec = by_id.get(chunk.id)
                if vec is None:
                    missing.append(chunk)
                else:
                    self._add([chunk], np.asarray(vec, dtype=np.float32)[None, :])
        return missing

    def _add(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        for chunk, vec in zip(chunks, vectors):
            self._pending.append((chunk, vec))
            self.records.append((chunk, vec))
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


def _source_info(source: str, sha: str, chunks: list[Chunk]) -> SourceInfo:
    first = chunks[0] if chunks else None
    return SourceInfo(
        source=source,
        sha256=sha,
        n_chunks=len(chunks),
        title=first.title if first else "",
        link=first.link if first else "",
    )
