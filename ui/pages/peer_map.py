"""Peer map: the relationship landscape (how vital, how often, how good, how trusted) and openers per peer."""

from __future__ import annotations

import components
import state
import streamlit as st

from agent.library.passages import escape_markdown as esc
from agent.peers.map import STANCE_LABELS, STANCES, chart_rows, peer_label, ranked, situation_for

state.init_state()
st.title("Peer map")
st.caption(
    "List the colleagues your mission depends on and rate each relationship from 1 to 5. "
    "Vital but weak relationships are where to start."
)


def peer_fields(prefix: str, peer=None) -> dict:
    """The inputs for one peer record (blank for a new one)."""
    name = st.text_input("Name", value=peer.name if peer else "", key=f"{prefix}_name", max_chars=120)
    role = st.text_input("Role", value=peer.role if peer else "", key=f"{prefix}_role", max_chars=120)
    left, right = st.columns(2)
    values = {}
    for col, field, label in (
        (left, "vital", "How vital to your mission"),
        (left, "frequency", "How often you talk"),
        (right, "quality", "Quality of communication"),
        (right, "trust", "Level of trust"),
    ):
        values[field] = col.slider(label, 1, 5, getattr(peer, field) if peer else 3, key=f"{prefix}_{field}")
    stance = st.radio(
        "Stance",
        STANCES,
        index=STANCES.index(peer.stance) if peer else 1,
        horizontal=True,
        format_func=STANCE_LABELS.get,
        key=f"{prefix}_stance",
    )
    notes = st.text_area("Notes", value=peer.notes if peer else "", key=f"{prefix}_notes", height=80)
    return {"name": name.strip(), "role": role.strip(), "stance": stance, "notes": notes.strip(), **values}


def chart(peers) -> None:
    """Scatter: x = vital, y = quality, size = frequency, colour = trust, shape = stance."""
    import altair as alt

    rows = chart_rows(peers)
    scale = alt.Scale(domain=[0.5, 5.5], nice=False)
    base = alt.Chart(alt.Data(values=rows))
    points = base.mark_point(filled=True, opacity=0.85).encode(
        x=alt.X("vital:Q", scale=scale, title="How vital →", axis=alt.Axis(values=[1, 2, 3, 4, 5])),
        y=alt.Y(
            "quality:Q",
            scale=scale,
            title="Quality of communication →",
            axis=alt.Axis(values=[1, 2, 3, 4, 5]),
        ),
        size=alt.Size("frequency:Q", scale=alt.Scale(domain=[1, 5], range=[80, 700]), title="Frequency"),
        color=alt.Color("trust:Q", scale=alt.Scale(domain=[1, 5], scheme="redyellowgreen"), title="Trust"),
        shape=alt.Shape(
            "stance:N",
            scale=alt.Scale(
                domain=["Sponsor", "Neutral", "Anti-sponsor"], range=["triangle-up", "circle", "cross"]
            ),
            legend=alt.Legend(orient="top", title=None),
        ),
        tooltip=["name:N", "role:N", "vital:Q", "frequency:Q", "quality:Q", "trust:Q", "stance:N", "notes:N"],
    )
    labels = base.mark_text(align="left", dx=12, dy=-8, fontSize=11).encode(
        x=alt.X("vital:Q", scale=scale), y=alt.Y("quality:Q", scale=scale), text="name:N"
    )
    layered = (
        (points + labels).properties(height=340).configure_legend(orient="bottom", direction="horizontal")
    )
    st.altair_chart(layered, width="stretch")


def draft(peer) -> None:
    """Ask the coach for openers for this relationship and keep them for the page."""
    drafts = state.coach().openers(situation_for(peer), k=3)
    st.session_state.setdefault("peer_openers", {})[peer.id] = drafts


with st.expander("Add a peer", expanded=False):
    with st.form("add_peer", clear_on_submit=True):
        fields = peer_fields("new")
        added = st.form_submit_button("Add peer", type="primary")
    if added:
        from agent.store.memory import PeerRecord

        if not fields["name"]:
            st.error("Give the peer a name (or a role, like “Head of Sales”).")
        else:
            with state.friendly_errors("add peer"):
                state.store().add_peer(PeerRecord(**fields))
                st.success(esc(f"Added {fields['name']}."))

peers = state.listed_or_stop("peers", lambda: state.store().list_peers(),
                             "No peers yet. Add the colleagues who matter most to your mission.")

chart(peers)
by_id = {p.id: p for p in peers}
order = [p.id for p in ranked(peers)]
st.subheader("Work on a relationship")
pid = st.selectbox(
    "Peer (most urgent first)", order, format_func=lambda i: peer_label(by_id[i]), key="peer_pick"
)
peer = by_id[pid]
st.markdown(
    esc(
        f"{peer_label(peer)} · {STANCE_LABELS.get(peer.stance, peer.stance)} · vital {peer.vital}, "
        f"frequency {peer.frequency}, quality {peer.quality}, trust {peer.trust}"
    )
)
if st.button("Draft conversation openers", type="primary"):
    with state.friendly_errors("openers"), st.spinner("Drafting openers…"):
        draft(peer)
drafts = st.session_state.get("peer_openers", {}).get(pid)
if drafts:
    components.openers(drafts, key=f"peer{pid}")

with st.expander("Edit or remove this peer"):
    with st.form(f"edit_peer_{pid}"):
        changes = peer_fields(f"edit{pid}", peer)
        saved = st.form_submit_button("Save changes")
    if saved:
        with state.friendly_errors("update peer"):
            if not changes["name"]:
                st.error("A peer needs a name.")
            else:
                state.store().update_peer(pid, **changes)
                st.rerun()
    if st.button("Remove peer", key=f"delete_{pid}"):
        with state.friendly_errors("delete peer"):
            state.store().delete_peer(pid)
            st.session_state.get("peer_openers", {}).pop(pid, None)
            st.rerun()
