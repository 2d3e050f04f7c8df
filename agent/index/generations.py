"""The retrieval index: atomic generations (Chroma collection, BM25, chunk store) behind a CURRENT file."""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from agent.core.errors import CoachError, ConfigError, IndexMissing, IngestError
from agent.core.homes import expand
from agent.core.types import Chunk
from agent.index.chroma_link import (
    REPAIR_HINT,
    ChromaUnavailable,
    bound_http_timeout,
    chroma_failure,
    is_chroma_failure,
)
from agent.index.embeddings import (
    Embedder,
    chroma_embedding_function,
    get_embedder,
    register_chroma_functions,
)
from agent.index.generation import Generation, GenerationDamaged, SourceInfo, gen_number

__all__ = ["ChromaUnavailable", "Index", "SourceInfo"]

CURRENT = "CURRENT"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Index:
    """An index folder: CURRENT names the live generation in gens/; each has its own Chroma collection."""

    def __init__(self, settings: Any, root: Path) -> None:
        self.settings = settings
        self.root = root
        self.gens = root / "gens"
        self._gen: Generation | None = None
        self._client: Any = None
        self._collections: dict[str, Any] = {}
        self._lock = threading.RLock()
        self.namespace = self._namespace()
        self.refresh()

    @classmethod
    def open(cls, settings: Any, path: Path | None = None, *, create: bool = True) -> Index:
        """Open (and with create, make) the index at `path` or settings.index_dir."""
        root = expand(path or settings.index_dir)
        if not create and not (root / CURRENT).is_file():
            raise IndexMissing(f"no index at {root}; build one with `coach ingest PATH --index {root}`")
        if create:
            try:
                (root / "gens").mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"cannot create index folder {root}: {exc.strerror}") from None
        return cls(settings, root)

    # ---- reading ----
    def _namespace(self) -> str:
        """A random id kept in the folder, so several indexes can share one Chroma server."""
        id_file = self.root / "INDEX_ID"
        if not id_file.is_file():
            tmp = self.root / f"INDEX_ID.{os.getpid()}.tmp"
            tmp.write_text(secrets.token_hex(4), encoding="ascii")
            with contextlib.suppress(FileExistsError):
                os.link(tmp, id_file)  # atomic: the first writer wins
            tmp.unlink()
        return id_file.read_text(encoding="ascii").strip()

    def current_name(self) -> str | None:
        try:
            name = (self.root / CURRENT).read_text(encoding="ascii").strip() or None
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError):
            name = "?"
        if name is not None and gen_number(name) is None:
            raise IndexMissing(
                f"index at {self.root} is damaged (CURRENT names no generation); {REPAIR_HINT}"
            )
        return name

    def refresh(self) -> bool:
        """Follow CURRENT if another process moved it; True when the generation changed."""
        with self._lock:
            failed: tuple[str, GenerationDamaged] | None = None
            for _ in range(5):
                name = self.current_name()
                if name == (self._gen.name if self._gen else None):
                    return False
                if name is None:
                    self._gen = None
                    return True
                if failed is not None and failed[0] == name:
                    raise failed[1]
                try:
                    gen = Generation(self.gens / name)
                except GenerationDamaged as exc:
                    # Perhaps collected between reading CURRENT and loading it: read CURRENT again.
                    failed = (name, exc)
                    continue
                old, self._gen = self._gen, gen
                if old is not None:
                    self._collections.pop(old.name, None)
                return True
            raise IndexMissing(f"index at {self.root} is changing too fast to read; try again")

    @property
    def generation(self) -> Generation | None:
        return self._gen

    def sources(self) -> dict[str, SourceInfo]:
        return self._gen.sources() if self._gen else {}

    def count(self) -> int:
        return self._gen.count if self._gen else 0

    def chunks_for(self, source: str) -> list[Chunk]:
        return self._gen.chunks_for(source) if self._gen else []

    @property
    def embedder_name(self) -> str | None:
        return self._gen.embedder if self._gen else None

    # ---- Chroma ----
    def client(self) -> Any:
        """The Chroma client: a server when settings.chroma_url is set, else embedded in the index folder."""
        if self._client is None:
            import chromadb

            chroma_settings = chromadb.Settings(anonymized_telemetry=False)
            url = getattr(self.settings, "chroma_url", "")
            register_chroma_functions()  # before Chroma reads any saved collection that names one of ours
            if url:
                parsed = urlparse(url)
                if parsed.scheme not in ("http", "https") or not parsed.hostname:
                    raise ConfigError(f"bad chroma_url {url!r}: expected http://host:port")
                try:
                    self._client = chromadb.HttpClient(
                        host=parsed.hostname,
                        port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                        ssl=parsed.scheme == "https",
                        settings=chroma_settings,
                    )
                except Exception as exc:  # noqa: BLE001 - chromadb reports an unreachable server as ValueError
                    raise self.chroma_failure(exc) from None
                bound_http_timeout(self._client)
            else:
                try:
                    self._client = chromadb.PersistentClient(
                        path=str(self.root / "chroma"), settings=chroma_settings
                    )
                except Exception as exc:  # noqa: BLE001 - a damaged store shows up as many exception types
                    raise self.chroma_failure(exc) from None
        return self._client

    def chroma_where(self) -> str:
        """Where the vectors live, for messages: the server URL or the embedded store's folder."""
        url = getattr(self.settings, "chroma_url", "")
        return f"Chroma server at {url}" if url else f"Chroma store in {self.root / 'chroma'}"

    def chroma_failure(self, exc: BaseException) -> CoachError:
        """One line for a Chroma failure: an unreachable or hung server, or a store that errs."""
        return chroma_failure(exc, getattr(self.settings, "chroma_url", ""), self.chroma_where())

    @contextlib.contextmanager
    def chroma_guard(self) -> Iterator[None]:
        """Turn Chroma and HTTP failures inside the block into one-line ChromaUnavailable errors."""
        try:
            yield
        except CoachError:
            raise
        except Exception as exc:
            if not is_chroma_failure(exc):
                raise
            raise self.chroma_failure(exc) from None

    def collection_name(self, gen: str) -> str:
        return f"coach_{self.namespace}_{gen}"

    def collection(self, gen: Generation, embedder: Embedder) -> Any:
        """The Chroma collection of `gen`, refusing one built with a different embedder."""
        col = self._collections.get(gen.name)
        if col is None:
            client = self.client()
            from chromadb.errors import NotFoundError

            try:
                with self.chroma_guard():
                    col = client.get_collection(
                        gen.collection, embedding_function=chroma_embedding_function(embedder)
                    )
            except NotFoundError:
                raise IndexMissing(
                    f"index at {self.root}: Chroma collection {gen.collection} is missing; {REPAIR_HINT}"
                ) from None
            built_with = (col.metadata or {}).get("embedder")
            if built_with != embedder.name:
                raise ConfigError(
                    f"index at {self.root} was built with embedder {built_with!r}, not "
                    f"{embedder.name!r}; set COACH_EMBEDDER to match or re-ingest"
                )
            self._collections[gen.name] = col
        return col

    def forget_collection(self, gen: str) -> None:
        self._collections.pop(gen, None)

    # ---- writing ----
    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """Serialise writers across processes; readers never take it."""
        with open(self.root / "LOCK", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def remove_sources(self, names: Iterable[str]) -> str:
        return self.apply({}, removals=names)

    def apply(
        self,
        upserts: dict[str, tuple[str, list[Chunk]]],
        removals: Iterable[str] = (),
        progress: Callable[[int, int], None] | None = None,
    ) -> str:
        """Write a new generation (kept chunks' vectors copied, new ones embedded), flip CURRENT, then GC."""
        from agent.index.writer import GenerationBuilder

        _check_upserts(upserts)
        embedder = get_embedder(self.settings)
        # A server dying mid-build leaves CURRENT on the old generation; its partial collection is collected later.
        with self.write_lock(), self.chroma_guard():
            self.refresh()
            if self._gen is not None and GenerationBuilder.is_noop(self._gen, embedder, upserts, set(removals)):
                self.collect_garbage()
                return self._gen.name
            builder = GenerationBuilder(self, embedder, self._next_number())
            try:
                builder.embed_ahead(upserts, set(removals))  # the model works while Chroma imports and opens
                self.collect_garbage()
                name = builder.build(upserts, set(removals), progress)
            finally:
                builder.settle()
            self._set_current(name)
            self.refresh()
            self.collect_garbage()
        return name

    def _next_number(self) -> int:
        numbers = [gen_number(p.name) for p in self.gens.iterdir()] if self.gens.is_dir() else []
        current = gen_number(self.current_name() or "")
        return max([n for n in numbers if n is not None] + [current or 0]) + 1

    def _set_current(self, name: str) -> None:
        tmp = self.root / f"{CURRENT}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / CURRENT)
        _fsync_dir(self.root)

    def collect_garbage(self) -> None:
        """Delete generations and collections but the current one and its predecessor (kept for readers)."""
        keep: set[str] = set()
        if self._gen is not None:
            keep = {self._gen.name, str(self._gen.meta.get("previous") or "")} - {""}
        for path in self.gens.iterdir():
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)
        for path in self.root.glob(f"{CURRENT}.*.tmp"):
            path.unlink(missing_ok=True)
        prefix = f"coach_{self.namespace}_"
        keep_cols = {self.collection_name(g) for g in keep}
        client = self.client()
        for col in client.list_collections():
            name = col if isinstance(col, str) else col.name
            if name.startswith(prefix) and name not in keep_cols:
                # Best effort: a collection that cannot be dropped now is retried at the next apply.
                with contextlib.suppress(Exception):
                    client.delete_collection(name)

    def new_meta(self, name: str, embedder: Embedder) -> dict[str, Any]:
        return {
            "generation": name,
            "collection": self.collection_name(name),
            "embedder": embedder.name,
            "dim": embedder.dim,
            "previous": self._gen.name if self._gen else None,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }


def _check_upserts(upserts: dict[str, tuple[str, list[Chunk]]]) -> None:
    seen: set[str] = set()
    for source, (_, chunks) in upserts.items():
        for chunk in chunks:
            if chunk.source != source:
                raise IngestError(f"{source}: chunk {chunk.id} claims source {chunk.source!r}")
            if chunk.id in seen:
                raise IngestError(f"{source}: duplicate chunk id {chunk.id}")
            seen.add(chunk.id)
