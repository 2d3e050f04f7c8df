"""The bundled corpus's index, built at build time and shipped in the package, so a first run never waits for it.

`make bundled-index` (scripts/build_bundled_index.py) rebuilds it; tests/test_shipped_index.py fails when the corpus,
the chunker or the embedder has moved on since. At run time a stale or unusable artifact is simply not used: the
corpus is ingested as before.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
ARTIFACT = DATA / "bundled_index.tar.gz"
MANIFEST = DATA / "bundled_index.json"
EMBEDDER = "minilm"  # settings.embedder the artifact is built with
# The code that decides what the chunks are; a change here can change them, so it is part of the fingerprint.
CHUNK_CODE = ("chunking.py", "cleaning.py", "loaders.py", "decoding.py")


def corpus_fingerprint(corpus: Path) -> str:
    """sha256 over every file ingest would take from `corpus` (relative name and bytes) and the chunking code."""
    from agent.ingest.pipeline import collect_files

    digest = hashlib.sha256()
    files, _ = collect_files([corpus])
    for path in sorted(files, key=lambda p: p.relative_to(corpus).as_posix()):
        digest.update(path.relative_to(corpus).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    here = Path(__file__).resolve().parent
    for name in CHUNK_CODE:
        digest.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
    return digest.hexdigest()


def read_manifest() -> dict[str, Any] | None:
    try:
        return json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def usable(settings: Any, corpus: Path) -> bool:
    """The artifact exists, was built from this corpus and chunker with this embedder, and the store is embedded."""
    manifest = read_manifest()
    if manifest is None or not ARTIFACT.is_file() or getattr(settings, "chroma_url", ""):
        return False
    if getattr(settings, "embedder", "") != manifest.get("settings_embedder"):
        return False
    return manifest.get("corpus_sha256") == corpus_fingerprint(corpus)


def install(settings: Any, index: Any, corpus: Path) -> bool:
    """Unpack the shipped index into an empty index folder; False (nothing changed) when it cannot be used."""
    if not usable(settings, corpus):
        return False
    root: Path = index.root
    with index.write_lock():
        if index.current_name() is not None or (root / "chroma").exists():
            return index.current_name() is not None  # another process got here first, or a store is in the way
        tmp = Path(tempfile.mkdtemp(prefix="shipped.", dir=root))
        try:
            with tarfile.open(ARTIFACT, "r:gz") as tar:
                tar.extractall(tmp, filter="data")
            for gen in (tmp / "gens").iterdir():
                os.replace(gen, root / "gens" / gen.name)
            os.replace(tmp / "chroma", root / "chroma")
            os.replace(tmp / "INDEX_ID", root / "INDEX_ID")
            os.replace(tmp / "CURRENT", root / "CURRENT")  # last: the index exists only now
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        index.namespace = (root / "INDEX_ID").read_text(encoding="ascii").strip()
        index.refresh()
    return True


def build(corpus: Path, out: Path = ARTIFACT, manifest: Path = MANIFEST) -> dict[str, Any]:
    """Ingest `corpus` into a fresh index with the real embedder and pack it, with its manifest."""
    import subprocess
    import sys

    with tempfile.TemporaryDirectory() as home:
        # In a child process, so Chroma has closed (and checkpointed) its SQLite store before it is packed.
        env = {**os.environ, "COACH_HOME": home, "COACH_EMBEDDER": EMBEDDER, "COACH_CHROMA_URL": "",
               "COACH_INDEX_BUNDLED_CORPUS": "false"}
        code = ("import sys; from agent.core.settings import load_settings; from agent.ingest.pipeline import "
                "ingest_paths; r = ingest_paths([sys.argv[1]], load_settings()); print(len(r.added)); "
                "sys.exit(0 if r.ok else 1)")
        proc = subprocess.run([sys.executable, "-c", code, str(corpus)], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"bundled corpus did not ingest cleanly:\n{proc.stderr[-2000:]}")
        sources = int(proc.stdout.split()[-1])
        root = Path(home) / "index"
        for leftover in ("LOCK",):
            (root / leftover).unlink(missing_ok=True)
        meta = json.loads((root / "gens" / (root / "CURRENT").read_text().strip() / "meta.json").read_text())
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=9) as tar:
            for path in sorted(root.rglob("*")):
                info = tar.gettarinfo(str(path), path.relative_to(root).as_posix())
                info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                if path.is_file():
                    with open(path, "rb") as fh:
                        tar.addfile(info, fh)
                else:
                    tar.addfile(info)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(buf.getvalue())
    data = {"corpus_sha256": corpus_fingerprint(corpus), "settings_embedder": EMBEDDER,
            "embedder": meta["embedder"], "chunks": meta["count"], "sources": sources,
            "artifact_sha256": hashlib.sha256(out.read_bytes()).hexdigest()}
    manifest.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return data
