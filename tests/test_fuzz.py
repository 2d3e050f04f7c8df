"""Bad input, fuzzed: files to ingest, upload names, chat messages and configuration. Each either works or
fails with one clear line (a CoachError), and a failure leaves nothing half-done behind."""

from __future__ import annotations

import os
import tempfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from agent.coach.pipeline import Coach
from agent.core.errors import CoachError, ConfigError
from agent.core.settings import load_settings
from agent.index.generations import Index
from agent.ingest.loaders import KINDS, load
from agent.ingest.pipeline import ingest_paths
from agent.library.uploads import save_uploads
from tests.coach_helpers import home_with_corpus

FAST = hyp_settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])
MAX_BYTES = 2 * 2**20


def one_line(exc: BaseException) -> None:
    assert isinstance(exc, CoachError), f"{type(exc).__name__}: {exc}"
    assert str(exc).strip() and "\n" not in str(exc) and "\r" not in str(exc), repr(str(exc))


def load_or_reason(name: str, data: bytes, max_bytes: int = MAX_BYTES):
    """The Document, or the one-line CoachError it raised (any other exception propagates and fails)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return load(path, max_bytes)
        except CoachError as exc:
            one_line(exc)
            return exc


# ---- files ---------------------------------------------------------------------------------------------------
texty = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=3000).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.text(max_size=500).map(lambda t: t.encode("utf-16")),
    st.lists(st.sampled_from(["<div>", "</div>", "<p>", "<script>", "---\n", "title: [", "# H\n", "\x00",
                              "%PDF-1.4\n", "stream\n", "endstream", "word ", "\n\n", "<!--", "é"]),
             max_size=200).map(lambda parts: "".join(parts).encode("utf-8")),
)


@FAST
@given(data=texty, ext=st.sampled_from(sorted(KINDS)))
def test_any_bytes_load_or_fail_in_one_line(data, ext):
    doc = load_or_reason(f"fuzz{ext}", data)
    if not isinstance(doc, CoachError):
        assert doc.text.strip() and doc.source == f"fuzz{ext}"


@pytest.mark.parametrize("ext, body", [
    (".txt", ("leadership " * 200_000).encode()),  # a 2.2 MB line of words
    (".md", b"x" * 1_500_000),  # one 1.5 MB token with no space to split on
    (".txt", ("\u202e\u05d0\U0001f600 " * 100_000).encode()),  # RTL marks, Hebrew, emoji
    (".html", b"<div>" * 60_000 + b"deep text" + b"</div>" * 60_000),
    (".html", b"<table><tr><td>" * 20_000 + b"cell"),
    (".html", b"<p>" + b"<b>bold " * 50_000 + b"</p>"),
])
def test_huge_lines_and_deep_nesting_load_or_fail_in_one_line(ext, body):
    doc = load_or_reason(f"big{ext}", body, max_bytes=8 * 2**20)
    if not isinstance(doc, CoachError):
        from agent.ingest.chunking import chunk_document

        chunks = chunk_document(doc)
        assert chunks and all(doc.text[c.start:c.end] == c.text for c in chunks)


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF file from numbered object bodies, with a correct cross-reference table."""
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def bomb_pdf(inflated_mb: int = 300) -> bytes:
    """One page whose content stream is a few hundred KB compressed and hundreds of MB inflated."""
    comp = zlib.compressobj(9)
    line = b"BT /F1 12 Tf 72 712 Td (ownership ownership ownership) Tj ET\n"
    block = line * (2**20 // len(line))
    stream = b"".join(comp.compress(block) for _ in range(inflated_mb)) + comp.flush()
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
         b"/Resources << /Font << /F1 5 0 R >> >> >>"),
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def many_pages_pdf(pages: int = 2500) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for n in range(pages):
        pdf.add_page()
        pdf.cell(text=f"page {n}")
    return bytes(pdf.output())


@pytest.mark.timeout(120)
@pytest.mark.parametrize("make, expected", [(bomb_pdf, ""), (many_pages_pdf, "2,500 pages")])
def test_pdf_bombs_are_refused_in_one_line(make, expected):
    result = load_or_reason("bomb.pdf", make(), max_bytes=20 * 2**20)
    assert isinstance(result, CoachError), f"a {make.__name__} was ingested: {len(result.text):,} characters"
    assert expected in str(result)


@hyp_settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(st.tuples(st.sampled_from(sorted(KINDS)), st.binary(max_size=400).map(lambda b: b + b"\x00")),
                      min_size=1, max_size=4))
def test_a_failed_ingest_leaves_the_index_generation_unchanged(coach_home, files):
    settings = home_with_corpus(coach_home)
    index = Index.open(settings)
    before = (index.current_name(), index.count(), sorted(p.name for p in index.gens.iterdir()))
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for n, (ext, data) in enumerate(files):
            paths.append(Path(folder) / f"bad{n}{ext}")
            paths[-1].write_bytes(data)
        report = ingest_paths(paths, settings)
    assert len(report.failed) == len(files) and not report.added
    assert all(reason.strip() and "\n" not in reason for _, reason in report.failed)
    after = Index.open(settings)
    assert (after.current_name(), after.count(), sorted(p.name for p in after.gens.iterdir())) == before


upload_names = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(["..", "/", "\\", ".", "etc", "passwd", "C:", "~", "\x00", " ", "con", "a.md",
                              "%2e%2e", "\u2215", "\uff0e", "\u202e"]), max_size=12).map("".join),
)


@FAST
@given(names=st.lists(upload_names, min_size=1, max_size=5))
def test_upload_names_never_escape_the_folder(names):
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root) / "uploads"
        try:
            written = save_uploads([(n, b"text") for n in names], folder)
        except CoachError as exc:
            one_line(exc)
            written = []
        assert all(p.parent == folder.resolve() and p.is_file() for p in written)
        assert len({p.name.lower() for p in written}) == len(written)
        everything = [p for p in Path(root).rglob("*") if p.is_file()]
        assert all(p.parent == folder for p in everything), everything


# ---- chat messages -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def coach(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz-home")
    c = Coach(home_with_corpus(home, index_bundled_corpus=False))
    yield c
    c.close()


any_char = st.characters(codec=None, categories=None)  # every code point, lone surrogates included
messages = st.one_of(
    st.text(alphabet=any_char, max_size=300),
    st.text(alphabet=st.sampled_from("\x00\x07\x1b\x7f\u200b\u202e\u2066\ufeff\ud800\udfff \n\t"), max_size=50),
    st.text(alphabet=st.sampled_from("שלום مرحبا 你好 नमस्ते 😀👩‍👩‍👧 "), min_size=1, max_size=200),
    st.just(""),
    st.just("x" * 1_000_000),
    st.just("My team stopped talking in meetings. \ud83d What should I ask them?"),
)


def _sessions(coach) -> int:
    return len(coach.store.list_sessions(limit=100_000))


@FAST
@given(message=messages)
def test_any_message_gets_a_turn_or_a_one_line_error_and_no_stray_session(coach, message):
    before = _sessions(coach)
    try:
        turn = coach.turn(None, message)
    except CoachError as exc:
        one_line(exc)
        assert _sessions(coach) == before  # a rejected first message leaves no session row
        return
    assert turn.reply.strip() and _sessions(coach) == before + 1
    history = coach.store.history(turn.session)
    assert [m.role for m in history] == ["user", "coach"] and history[1].turn == turn


# ---- configuration -------------------------------------------------------------------------------------------
FIELDS = ["provider", "model", "temperature", "max_tokens", "timeout", "max_retries", "top_k", "embedder",
          "context_budget", "max_file_mb", "index_bundled_corpus", "database_url", "chroma_url", "prompt_variant"]
toml_values = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                        st.booleans(), st.text(max_size=20), st.lists(st.integers(), max_size=3))


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return repr(value)


@FAST
@given(entries=st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.from_regex(r"[a-z_]{1,12}", fullmatch=True)),
                               toml_values, max_size=5),
       section=st.booleans(), garbage=st.one_of(st.none(), st.binary(max_size=200)))
def test_any_config_file_loads_or_fails_in_one_line(coach_home, entries, section, garbage):
    coach_home.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{k} = {_toml(v)}\n" for k, v in entries.items())
    data = garbage if garbage is not None else (("[coach]\n" if section else "") + body).encode()
    (coach_home / "config.toml").write_bytes(data)
    try:
        settings = load_settings()
    except ConfigError as exc:
        one_line(exc)
        return
    assert settings.home == coach_home


@FAST
@given(env=st.dictionaries(st.sampled_from(FIELDS + ["home", "api_key", "nonsense"]),
                           st.text(alphabet=st.characters(exclude_characters="\x00", codec="utf-8"), max_size=30),
                           max_size=4))
def test_any_environment_loads_or_fails_in_one_line(env):
    saved = {k: os.environ.get(k) for k in os.environ if k.startswith("COACH_")}
    try:
        for key, value in env.items():
            os.environ[f"COACH_{key.upper()}"] = value
        try:
            load_settings()
        except ConfigError as exc:
            one_line(exc)
    finally:
        for key in [k for k in os.environ if k.startswith("COACH_")]:
            del os.environ[key]
        os.environ.update({k: v for k, v in saved.items() if v is not None})


def test_a_bad_config_stops_a_command_with_one_line_and_exit_2(coach_home):
    from typer.testing import CliRunner

    from agent.cli.main import app

    coach_home.mkdir(parents=True)
    (coach_home / "config.toml").write_text('top_k = "many"\nshiny = 1\n')
    result = CliRunner().invoke(app, ["sessions"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error: bad setting")


@pytest.mark.parametrize("var, value", [("COACH_HOME", "~0"), ("COACH_HOME", "~nosuchuser/x"),
                                        ("COACH_CONFIG", "~0/c.toml")])
def test_a_home_with_no_such_user_is_one_line_and_exit_2(var, value, tmp_path):
    # Found by the environment fuzz: "~0" made pathlib raise RuntimeError past every handler.
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    env[var] = value
    for args in (["ask", "hi"], ["sessions"]):
        out = subprocess.run([sys.executable, "-m", "agent.cli", *args], env=env, capture_output=True, text=True,
                             timeout=120, cwd=Path(__file__).resolve().parent.parent)
        assert out.returncode == 2, out.stderr[-800:]
        assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: bad path"), out.stderr


@pytest.mark.parametrize("args, env", [
    (["ingest", "~nosuchuser/notes"], {}),
    (["ingest", "corpus", "--index", "~nosuchuser/idx"], {}),
    (["doctor", "--index", "~nosuchuser/idx"], {}),
    (["search", "peers", "--index", "~nosuchuser/idx"], {}),
    (["ask", "hi"], {"COACH_PROVIDER": "llamacpp", "COACH_MODEL_PATH": "~nosuchuser/m.gguf"}),
])
def test_a_path_argument_with_no_such_user_is_one_line_and_exit_2(args, env, coach_home, monkeypatch):
    # Every place a user-given path is expanded goes through homes.expand, so "~nobody" is a bad path, not a crash.
    from typer.testing import CliRunner

    from agent.cli.main import app

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: bad path '~nosuchuser/"), result.output
    assert result.output.count("\n") == 1 and "coach>" not in result.output


def test_a_provider_that_fails_to_start_leaves_no_prompt_on_stdout(coach_home):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    env.update({"COACH_HOME": str(coach_home), "COACH_PROVIDER": "openai"})
    env.pop("OPENAI_API_KEY", None)
    out = subprocess.run([sys.executable, "-m", "agent.cli", "ask", "hi"], env=env, capture_output=True, text=True,
                         timeout=120, cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 2, out.stderr[-800:]
    assert out.stdout == "" and out.stderr.startswith("error: "), (out.stdout, out.stderr)
