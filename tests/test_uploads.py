"""Uploaded files land under the upload folder with safe names, whatever the browser sent."""

from __future__ import annotations

import pytest

from agent.library.uploads import safe_name, save_uploads


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("notes.md", "notes.md"),
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\windows\\boot.txt", "boot.txt"),
        ("/abs/path/a b.pdf", "a b.pdf"),
        (".hidden.md", "hidden.md"),
        ("..", "upload"),
        ("", "upload"),
        ("evil<script>.html", "evil_script.html"),
        ("a\x00b.txt", "ab.txt"),
        ("name..md", "name.md"),
    ],
)
def test_safe_name_strips_paths_and_odd_characters(raw, expected):
    assert safe_name(raw) == expected


def test_saved_uploads_never_escape_the_folder(tmp_path):
    folder = tmp_path / "uploads"
    paths = save_uploads([("../../escape.md", b"a"), ("sub/escape.md", b"b"), ("/tmp/x.txt", b"c")], folder)
    assert [p.parent for p in paths] == [folder.resolve()] * 3
    assert [p.name for p in paths] == ["escape.md", "escape-2.md", "x.txt"]  # same name twice: kept apart
    assert [p.read_bytes() for p in paths] == [b"a", b"b", b"c"]
    assert not (tmp_path / "escape.md").exists()
