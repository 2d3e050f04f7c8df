"""Library: add notes (md, txt, html, pdf), see what is indexed, remove sources, search the index."""

from __future__ import annotations

import tempfile
from pathlib import Path

import state
import streamlit as st

from agent.library.passages import escape_markdown as esc
from agent.library.uploads import UPLOAD_TYPES, save_uploads

state.init_state()
st.title("Library")
st.caption("The notes the coach grounds its questions in. Uploaded files are indexed on this machine only.")


def _ingest(uploads) -> None:
    from agent.ingest.pipeline import ingest_paths

    bar = st.progress(0.0, text="Reading files…")

    def progress(stage: str, done: int, total: int) -> None:
        share = done / total if total else 1.0
        label = "Reading files…" if stage == "read" else "Indexing passages…"
        bar.progress(min(1.0, 0.3 * share if stage == "read" else 0.3 + 0.7 * share), text=label)

    settings = state.current_settings()
    with tempfile.TemporaryDirectory(prefix="coach-upload-") as tmp:
        paths = save_uploads(((f.name, f.getvalue()) for f in uploads), Path(tmp))
        report = ingest_paths(paths, settings, progress=progress, index=state.index(settings))
    bar.progress(1.0, text="Done")
    st.session_state.library_report = {"summary": report.summary(), "failed": report.failed}


with st.form("upload", clear_on_submit=True):
    uploads = st.file_uploader("Add notes", type=list(UPLOAD_TYPES), accept_multiple_files=True)
    submitted = st.form_submit_button("Add to library")
if submitted and uploads:
    with state.friendly_errors("ingest"):
        _ingest(uploads)

report = st.session_state.get("library_report")
if report:
    (st.warning if report["failed"] else st.success)(esc(report["summary"]))
    for path, reason in report["failed"]:
        st.error(esc(f"{Path(path).name}: {reason}"))

st.subheader("Sources")
with state.friendly_errors("sources"):
    index = state.index()
    sources = index.sources()
    if not sources:
        st.info("The index is empty. Add notes above.")
    else:
        rows = [{"source": s.source, "title": s.title, "chunks": s.n_chunks} for s in sources.values()]
        st.dataframe(rows, hide_index=True, width="stretch")
        st.caption(f"{len(sources)} sources, {sum(r['chunks'] for r in rows)} passages.")
        doomed = st.multiselect("Remove sources", sorted(sources))
        if st.button("Remove", disabled=not doomed):
            index.remove_sources(doomed)
            st.session_state.library_report = {"summary": f"removed {len(doomed)} source(s)", "failed": []}
            st.rerun()

st.subheader("Search")
query = st.text_input("Search the notes", key="library_query", placeholder="e.g. anti-sponsor")
if query.strip():
    with state.friendly_errors("search"):
        hits = state.searcher().search(query, k=5)
        if not hits:
            st.caption("No passages match.")
        for hit in hits:
            with st.container(border=True):
                st.markdown(
                    f"**{esc(hit.chunk.title or hit.chunk.source)}** · {esc(hit.chunk.source)} · "
                    f"score {hit.score:.3f}"
                )
                st.markdown(esc(hit.chunk.text))
