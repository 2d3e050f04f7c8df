"""Every UI page under Streamlit's AppTest, on the real store and index (hash embedder, offline engine)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.samples import SECRETS, peer_session
from tests.ui_samples import PEER_MESSAGE, index_with_peer_note, sample_report

APP = ROOT / "ui" / "app.py"
XSS = "<script>alert(1)</script> <img src=x onerror=alert(2)>"
def app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=90).run()


def on_page(at: AppTest, page: str) -> AppTest:
    return at.switch_page(f"pages/{page}.py").run()


def no_failures(at: AppTest) -> None:
    """No traceback element and no error callout on the page."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def tree_text(at: AppTest) -> str:
    """Every string in the rendered element tree, for 'is it anywhere on the page' checks."""
    return "\n".join(str(node.proto) for node in _walk(at._tree))


def _walk(node):
    for child in getattr(node, "children", {}).values():
        if hasattr(child, "proto"):
            yield child
        yield from _walk(child)


def chart_rows(chart) -> list[dict]:
    """The rows a Vega-Lite chart element was sent (Streamlit ships them as Arrow)."""
    import pyarrow as pa

    return pa.ipc.open_stream(chart.proto.data.data).read_all().to_pylist()


@pytest.fixture
def no_corpus(monkeypatch):
    """Pages that need no index skip indexing the bundled notes (keeps these tests fast)."""
    monkeypatch.setenv("COACH_INDEX_BUNDLED_CORPUS", "false")


@pytest.fixture
def stored_session():
    """The sample session, written through the real store the UI opens."""
    from agent.core.settings import load_settings
    from agent.store.memory import open_store

    store = open_store(load_settings())
    sid = peer_session(store)
    store.close()
    return sid


def test_chat_reply_has_citation_expander_and_phase(tmp_path):
    from agent.core.settings import load_settings

    index_with_peer_note(load_settings(), tmp_path)
    at = app()
    at.chat_input[0].set_value(PEER_MESSAGE).run()
    no_failures(at)
    user, coach = at.chat_message[-2], at.chat_message[-1]
    assert user.name == "user" and coach.name == "assistant"
    assert coach.markdown and coach.markdown[0].value.strip()
    assert any(c.value.startswith("GROW phase:") for c in coach.caption)
    assert coach.expander, "the reply should show its cited passages"
    html = coach.expander[0].get("html")[0].proto.body
    assert "<mark>" in html and "</mark>" in html
    assert at.session_state.session_id  # the new session is remembered
    at.run()  # a rerun rebuilds the conversation from the store
    assert len(at.chat_message) == 2 and at.chat_message[-1].expander


def test_model_output_and_documents_render_as_text(monkeypatch):
    at = app()
    at.chat_input[0].set_value(f"{XSS} My team does not follow my plan.").run()
    no_failures(at)
    shown = at.chat_message[-2].markdown[0].value
    assert "\\<script\\>" in shown and "<script>" not in shown  # escaped, so Markdown shows it as text
    for block in at.get("html"):
        assert "<script" not in block.proto.body and "<img" not in block.proto.body


def test_crisis_turn_is_a_clear_callout_with_resources(no_corpus):
    from agent.safety.guard import check_input, safe_reply

    message = "I want to end my life, I cannot go on."
    at = app()
    at.chat_input[0].set_value(message).run()
    assert not at.exception
    coach = at.chat_message[-1]
    assert len(coach.error) == 1 and coach.error[0].icon == ":material/emergency:"
    shown = coach.error[0].value
    assert "  \n" in shown  # the resources keep their own lines
    assert shown.replace("\\", "").replace("  \n", "\n") == safe_reply(check_input(message), message)
    assert not coach.expander  # no coaching citations on a crisis turn


def test_passage_with_markup_is_escaped_inside_the_highlight():
    from agent.library.passages import PassageView, highlighted_html

    out = highlighted_html(PassageView(before="a <b>", passage=XSS, after="</div><script>x</script>"))
    assert (
        out.count("<mark>") == 1 and "<script" not in out and "<img" not in out and out.count("</div>") == 1
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out


def test_sidebar_provider_switch_keeps_the_key_secret(no_corpus):
    at = app()
    assert at.selectbox(key="_w_provider").value == "offline"
    assert not at.text_input  # no model fields for the offline provider
    at.selectbox(key="_w_provider").set_value("openai-compatible").run()
    assert at.session_state.provider == "openai-compatible"
    at.text_input(key="_w_base_url").set_value("http://127.0.0.1:9/v1").run()
    at.text_input(key="_w_api_key").set_value("sk-secret-abcdefghijklmnop").run()
    assert not at.exception
    key = at.session_state.api_key
    assert key.get_secret_value() == "sk-secret-abcdefghijklmnop"
    assert at.text_input(key="_w_api_key").value == ""  # the widget is blanked at once
    assert "sk-secret" not in tree_text(at)
    on_page(at, "library")  # the choice survives a page change (AppTest runs the page without the sidebar)
    assert not at.exception and at.session_state.provider == "openai-compatible"
    assert at.session_state.api_key.get_secret_value() == "sk-secret-abcdefghijklmnop"


def test_provider_down_is_a_friendly_error(monkeypatch, no_corpus):
    monkeypatch.setenv("COACH_MAX_RETRIES", "0")
    monkeypatch.setenv("COACH_TIMEOUT", "3")
    at = app()
    at.selectbox(key="_w_provider").set_value("openai-compatible").run()
    at.text_input(key="_w_base_url").set_value("http://127.0.0.1:9/v1").run()
    at.text_input(key="_w_model").set_value("gemma").run()
    at.chat_input[0].set_value("My peers ignore my proposals.").run()
    assert not at.exception
    assert len(at.error) == 1 and "Something went wrong" not in at.error[0].value  # the provider's own line
    assert "\n" not in at.error[0].value and "Traceback" not in at.error[0].value
    assert at.chat_message[-2].markdown[0].value.startswith("My peers")  # the message stays on screen


def test_library_upload_list_search_and_remove(no_corpus):
    at = on_page(app(), "library")
    no_failures(at)
    assert at.info and "empty" in at.info[0].value
    at.file_uploader[0].set_value(
        [
            (
                "../../../escape.md",
                f"# Sponsors\n\nFind the sponsors among your peers. {XSS}\n".encode(),
                "text/markdown",
            ),
            ("notes.txt", b"Trust grows when you keep small promises to your peers.\n", "text/plain"),
            ("broken.pdf", b"not really a pdf", "application/pdf"),
        ]
    )
    next(b for b in at.button if b.label == "Add to library").click().run()
    assert not at.exception
    assert at.warning and "2 added" in at.warning[0].value.replace("\\", "")
    assert any("broken" in e.value for e in at.error)  # the bad file is named, the rest still went in
    table = at.dataframe[0].value
    assert set(table["source"]) == {"escape.md", "notes.txt"}  # the path in the upload name was dropped
    assert not (ROOT.parent / "escape.md").exists()
    at.text_input(key="library_query").set_value("sponsors peers").run()
    results = [m.value for m in at.markdown if "Sponsors" in m.value or "sponsors" in m.value]
    assert results and all("<script>" not in r for r in results)
    at.multiselect[0].set_value(["notes.txt"]).run()
    next(b for b in at.button if b.label == "Remove").click().run()
    assert set(at.dataframe[0].value["source"]) == {"escape.md"}


def test_peer_add_draws_chart_and_drafts_openers():
    at = on_page(app(), "peer_map")
    no_failures(at)
    at.text_input(key="new_name").set_value("Dana")
    at.text_input(key="new_role").set_value("Head of Sales")
    at.slider(key="new_vital").set_value(5)
    at.slider(key="new_quality").set_value(2)
    at.slider(key="new_trust").set_value(2)
    at.radio(key="new_stance").set_value("anti-sponsor")
    next(b for b in at.button if b.label == "Add peer").click().run()
    no_failures(at)
    charts = at.get("vega_lite_chart")
    assert charts
    values = chart_rows(charts[0])
    assert {"name": "Dana", "vital": 5, "quality": 2, "trust": 2, "stance": "Anti-sponsor"}.items() <= next(
        v for v in values if v.get("name") == "Dana"
    ).items()
    from agent.core.settings import load_settings
    from agent.store.memory import open_store

    assert [p.name for p in open_store(load_settings()).list_peers()] == ["Dana"]
    next(b for b in at.button if b.label == "Draft conversation openers").click().run()
    no_failures(at)
    assert at.code and all(c.value.strip() for c in at.code)  # openers as copyable cards


def test_session_prep_brief_and_redaction(no_corpus, stored_session):
    at = on_page(app(), "session_prep")
    no_failures(at)
    brief = at.text_area[0].value
    for part in (
        "## Themes",
        "## The client's own words",
        "## Phase reached",
        "Will",
        "## Commitments",
        "call Priya about the launch",
        "## Questions for next time",
        "## Sources cited",
        "Mapping your peers",
    ):
        assert part in brief
    assert "Priya" in brief and "priya@acme.io" in brief
    at.toggle(key="prep_redact").set_value(True).run()
    redacted = at.text_area[0].value
    for secret in SECRETS:
        assert secret not in redacted
    assert "[name]" in redacted and "## Commitments" in redacted
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download Markdown", "Download PDF"]


def test_evals_page_shows_scores_thresholds_and_comparisons(no_corpus, coach_home):
    path = coach_home / "reports" / "run1" / "report.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(sample_report()))
    at = on_page(app(), "evals")
    assert not at.exception
    missed = at.error[0].value.replace("\\", "")
    # The lower-is-better talk ratio is over its max, and the concise variant misses the open-question bar.
    assert "2 metric(s) miss" in missed
    assert "coaching.coach_talk_ratio (offline/default)" in missed
    assert "coaching.open_question_share (offline/concise)" in missed
    assert len(at.get("vega_lite_chart")) == 2  # metric bars with threshold ticks, and the comparison deltas
    passes = list(at.dataframe[0].value["pass"])
    assert passes == [True, False, None, True, False]  # a null (NaN) score is left out, not drawn as 0
    at.selectbox(key="evals_suite").set_value("openers").run()
    assert not at.exception
    assert list(at.dataframe[0].value["metric"]) == ["openers.citations_valid"]
    at.radio(key="evals_source").set_value("Upload").run()
    bad = ("bad.json", b"{not json", "application/json")
    at.file_uploader(key="evals_upload").set_value(bad).run()
    assert not at.exception and "not valid JSON" in at.error[0].value


def test_coach_ui_serves_the_bundled_app_locally_without_usage_stats():
    from agent.cli.ui_cmd import streamlit_command

    cmd = streamlit_command(8765)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("app.py")
    flags = dict(zip(cmd[5::2], cmd[6::2]))
    assert flags == {
        "--server.address": "127.0.0.1",
        "--server.port": "8765",
        "--server.headless": "true",
        "--browser.gatherUsageStats": "false",
    }


def test_sidebar_says_the_coach_is_not_a_crisis_service(no_corpus):
    at = app()
    notes = [c.value for c in at.sidebar.caption if "not a crisis service" in c.value]
    assert len(notes) == 1 and "988" in notes[0] and "116 123" in notes[0]


def test_check_in_turn_is_a_callout_with_its_one_question(no_corpus, monkeypatch):
    import agent.safety.semantic as semantic
    from agent.safety.semantic import SemanticHit

    near = SemanticHit("roof", "self_harm", "an exemplar", 0.47, 0.1)
    monkeypatch.setattr(semantic, "semantic_assess", lambda message, ruled_out=None: (None, near))
    monkeypatch.setattr("agent.safety.detector.classify", lambda message: None)  # the bank path decides here
    at = app()
    at.chat_input[0].set_value("I keep looking at the office roof.").run()
    assert not at.exception
    coach = at.chat_message[-1]
    assert len(coach.warning) == 1 and "harming yourself" in coach.warning[0].value
    assert not coach.expander  # no citations: the check-in is not a coaching turn
