"""Small render helpers: a coach turn, its citations, openers, GROW stepper, safety notices, sidebar."""

from __future__ import annotations

from typing import Any

import state
import streamlit as st

from agent.library.passages import escape_markdown as esc
from agent.library.passages import highlighted_html, passage_view, safe_link

GROW = ("goal", "reality", "options", "will")
GROW_LABELS = {"goal": "Goal", "reality": "Reality", "options": "Options", "will": "Will", "closed": "Closed"}
PROVIDER_HINTS = {
    "offline": "Runs on this machine with no model: questions from the bank, grounded in your notes.",
    "openai": "Needs an API key. Model e.g. gpt-4o-mini.",
    "anthropic": "Needs an API key. Model e.g. claude-3-5-haiku-latest.",
    "ollama": "A local Ollama server; base URL defaults to http://127.0.0.1:11434.",
    "openai-compatible": "Any OpenAI-style server: give its base URL (and a key if it needs one).",
    "llamacpp": "A llama.cpp server's base URL, or a local GGUF via COACH_MODEL_PATH.",
}


def phase_stepper(phase: str) -> None:
    """Goal → Reality → Options → Will, with the phase reached in bold and earlier ones ticked."""
    reached = 4 if phase == "closed" else GROW.index(phase) if phase in GROW else 0
    steps = []
    for i, name in enumerate(GROW):
        label = GROW_LABELS[name]
        steps.append(f"**{label}**" if i == reached else f"✓ {label}" if i < reached else label)
    st.caption("GROW phase: " + " → ".join(steps))


def safety_notice(turn: Any) -> bool:
    """A crisis, check-in, referral or redirect reply as a clear callout; True when one was shown."""
    action = turn.safety.action
    if action == "crisis_resources":
        st.error(esc(turn.reply), icon=":material/emergency:")
    elif action in ("refer", "check_in"):
        st.warning(esc(turn.reply), icon=":material/support:")
    elif action in ("redirect", "refuse_and_continue"):
        st.info(esc(turn.reply), icon=":material/undo:")
    else:
        return False
    return True


def citations(turn: Any, index: Any, key: str) -> None:
    """Each cited passage in an expander, highlighted inside its surrounding text, with its title and link."""
    for n, cit in enumerate(turn.citations, 1):
        with st.expander(f"[{n}] {esc(cit.title or cit.source)}", icon=":material/description:"):
            chunks = index.chunks_for(cit.source) if index is not None else []
            st.html(highlighted_html(passage_view(cit, chunks)))
            link = safe_link(cit.link)
            caption = f"{esc(cit.source)}, passage {cit.chunk + 1}"
            st.caption(f"{caption} · [open the original]({link})" if link else caption)


def openers(items: list[Any], key: str = "") -> None:
    """Conversation openers as cards; the code block gives each a copy button."""
    for op in items:
        with st.container(border=True):
            st.code(op.text, language=None, wrap_lines=True)
            if op.why:
                st.caption(esc(op.why))
            if op.citation is not None:
                st.caption(f"Grounded in: {esc(op.citation.title or op.citation.source)}")


def coach_turn(turn: Any, index: Any, key: str, *, with_reply: bool = True) -> None:
    """A whole coach reply: text (or safety callout), phase, citations, openers."""
    shown = safety_notice(turn)
    if with_reply and not shown:
        st.markdown(esc(turn.reply))
    phase_stepper(turn.phase)
    if turn.commitment is not None and turn.commitment.what:
        c = turn.commitment
        when = f", by {c.by_when}" if c.by_when else ""
        st.success(esc(f"Commitment: {c.what}{when}"), icon=":material/task_alt:")
    citations(turn, index, key)
    if turn.openers:
        st.markdown("**Conversation openers**")
        openers(turn.openers, key)


def _apply_provider() -> None:
    for name in ("provider", "model", "base_url"):
        st.session_state[name] = st.session_state.get(f"_w_{name}", "")
    st.session_state.pop("provider_error", None)


def _take_key() -> None:
    """Move the typed key into a SecretStr and blank the widget, so the key is never echoed back."""
    from pydantic import SecretStr

    typed = st.session_state.get("_w_api_key", "")
    if typed:
        st.session_state.api_key = SecretStr(typed.strip())
    st.session_state._w_api_key = ""


def _forget_key() -> None:
    st.session_state.api_key = None


def provider_settings() -> None:
    """Provider, model, base URL and key; the key is kept only in memory, as a SecretStr."""
    from agent.core.settings import PROVIDERS

    for name in ("provider", "model", "base_url"):
        st.session_state.setdefault(f"_w_{name}", st.session_state[name])
    st.selectbox("Provider", PROVIDERS, key="_w_provider", on_change=_apply_provider)
    st.caption(PROVIDER_HINTS.get(st.session_state.provider, ""))
    if st.session_state.provider != "offline":
        st.text_input("Model", key="_w_model", on_change=_apply_provider, placeholder="provider default")
        st.text_input(
            "Base URL", key="_w_base_url", on_change=_apply_provider, placeholder="provider default"
        )
        st.text_input(
            "API key",
            type="password",
            key="_w_api_key",
            on_change=_take_key,
            placeholder="kept in memory for this tab only",
        )
        if st.session_state.api_key is not None:
            st.caption("A key is set for this browser session.")
            st.button("Forget key", on_click=_forget_key)


def _new_session() -> None:
    st.session_state.session_id = None


def session_controls() -> None:
    """New / resume / delete a session, from the store's list."""
    st.button("New session", on_click=_new_session, width="stretch", type="primary")
    with state.friendly_errors("sessions"):
        sessions = state.store().list_sessions()
        if not sessions:
            st.caption("No saved sessions yet.")
            return
        labels = {
            s.id: f"{s.title or 'Untitled'} · {s.updated_at[:10]} · {GROW_LABELS.get(s.phase, s.phase)}"
            for s in sessions
        }
        ids = list(labels)
        current = st.session_state.session_id
        picked = st.selectbox(
            "Sessions",
            ids,
            index=ids.index(current) if current in ids else 0,
            format_func=lambda sid: labels[sid],
            key=f"_w_session_pick_{current}",
        )
        left, right = st.columns(2)
        if left.button("Resume", width="stretch"):
            st.session_state.session_id = picked
            st.rerun()
        if right.button("Delete", width="stretch"):
            state.store().delete_session(picked)
            if st.session_state.session_id == picked:
                st.session_state.session_id = None
            st.rerun()


CRISIS_NOTE = ("This coach is not a crisis service. If you or someone else may be in danger, call your local "
               "emergency number; in the US call or text 988, in the UK and Ireland call Samaritans on 116 123, "
               "elsewhere see findahelpline.com.")


def sidebar() -> None:
    """The sidebar on every page: provider settings, then sessions."""
    with st.sidebar:
        st.subheader("Model")
        provider_settings()
        st.subheader("Sessions")
        session_controls()
        st.caption(CRISIS_NOTE)
