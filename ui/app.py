"""Entry point and chat page: streaming coach replies with cited passages, openers and the GROW phase."""

from __future__ import annotations

import components
import state
import streamlit as st

from agent.library.passages import escape_markdown as esc

WELCOME = (
    "Tell me about a leadership situation on your mind: a new role, a peer relationship, a team that "
    "isn't on board. I'll ask questions rather than hand out answers, and show the notes I lean on."
)


def _stream(coach, session_id: str | None, message: str, holder: dict):
    """Text deltas for st.write_stream (escaped), keeping the final CoachTurn in holder["turn"]."""
    for piece in coach.stream_turn(session_id, message):
        if isinstance(piece, str):
            yield esc(piece)
        else:
            holder["turn"] = piece


def chat_page() -> None:
    """Chat with the coach: history from the store, then the new turn, streamed."""
    st.title("Socratic coach")
    index = None
    history = []
    with state.friendly_errors("chat"):
        state.coach()  # build it now, behind the first-run spinner, rather than mid-reply
        index = state.index()
        sid = st.session_state.session_id
        if sid:
            from agent.core.errors import SessionNotFound

            try:
                history = state.store().history(sid)
            except SessionNotFound:
                st.session_state.session_id = None
    message = st.chat_input("What's on your mind as a leader?")
    if not history and not message:
        st.info(WELCOME, icon=":material/explore:")
    for n, msg in enumerate(history):
        with st.chat_message("user" if msg.role == "user" else "assistant"):
            if msg.role == "user" or msg.turn is None:
                st.markdown(esc(msg.text))
            else:
                components.coach_turn(msg.turn, index, key=f"h{n}")

    if not message:
        return
    with st.chat_message("user"):
        st.markdown(esc(message))
    with st.chat_message("assistant"), state.friendly_errors("turn"):
        coach = state.coach()
        holder: dict = {}
        slot = st.empty()
        with slot.container():
            streamed = st.write_stream(_stream(coach, st.session_state.session_id, message, holder))
        turn = holder.get("turn")
        if turn is None:
            st.error("The coach stopped before finishing its reply. Please try again.")
            return
        st.session_state.session_id = turn.session or st.session_state.session_id
        if turn.safety.action != "coach" or (isinstance(streamed, str) and streamed != esc(turn.reply)):
            slot.empty()  # the guardrails changed the reply after streaming: show the final text
            with slot.container():
                components.coach_turn(turn, index, key="new")
        else:
            components.coach_turn(turn, index, key="new", with_reply=False)


def main() -> None:
    st.set_page_config(page_title="Socratic coach", page_icon="🧭", layout="centered")
    state.init_state()
    page = st.navigation(
        [
            st.Page(chat_page, title="Chat", icon=":material/chat:", default=True),
            st.Page("pages/library.py", title="Library", icon=":material/library_books:"),
            st.Page("pages/peer_map.py", title="Peer map", icon=":material/hub:"),
            st.Page("pages/session_prep.py", title="Session prep", icon=":material/edit_note:"),
            st.Page("pages/evals.py", title="Evals", icon=":material/analytics:"),
        ]
    )
    components.sidebar()
    page.run()


main()
