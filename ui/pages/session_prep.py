"""Session prep for coaches: an editable brief of a session, optionally redacted, as Markdown or PDF."""

from __future__ import annotations

import state
import streamlit as st

from agent.brief.brief import build_brief, to_markdown
from agent.brief.export import to_markdown_bytes, to_pdf_bytes

state.init_state()
st.title("Session prep")
st.caption("A brief to read before the next session. Edit it freely; the export uses your edited text.")

sessions = state.listed_or_stop("sessions", lambda: state.store().list_sessions(),
                                "No sessions yet. Have a conversation on the Chat page first.")

labels = {s.id: f"{s.title or 'Untitled'} · {s.updated_at[:10]} · {s.n_turns} turn(s)" for s in sessions}
ids = list(labels)
current = st.session_state.get("session_id")
sid = st.selectbox(
    "Session",
    ids,
    index=ids.index(current) if current in ids else 0,
    format_func=lambda i: labels[i],
    key="prep_session",
)
strip = st.toggle("Strip names, e-mail addresses and phone numbers", key="prep_redact")

text = None
with state.friendly_errors("brief"):
    brief = build_brief(state.store(), sid, redact_names=strip)
    text = to_markdown(brief)
if text is None:
    st.stop()

# A new key per (session, redaction) so switching either refills the box, while edits survive other reruns.
edited = st.text_area("Brief (Markdown)", value=text, height=420, key=f"brief_{sid}_{int(strip)}")
stem = f"session-brief-{sid}" + ("-redacted" if strip else "")
left, right = st.columns(2)
left.download_button(
    "Download Markdown",
    to_markdown_bytes(edited),
    file_name=f"{stem}.md",
    mime="text/markdown",
    width="stretch",
    on_click="ignore",
)
# The PDF is built only when asked for (about 0.3 s with the embedded unicode font).
right.download_button(
    "Download PDF",
    lambda: to_pdf_bytes(edited, title=f"Session brief {sid}"),
    file_name=f"{stem}.pdf",
    mime="application/pdf",
    width="stretch",
    on_click="ignore",
)
