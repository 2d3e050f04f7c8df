"""load_model turns every way a YAML data file can be broken into one ConfigError line naming the file."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, model_validator

from agent.core.errors import ConfigError
from agent.core.yaml_data import load_model


class Pair(BaseModel):
    a: int
    b: int

    @model_validator(mode="after")
    def _ordered(self) -> Pair:
        if self.a > self.b:
            raise ValueError("a must not exceed b")
        return self


@pytest.mark.parametrize("body, match", [
    ("a: 1\nb: [2\n", r"pair file .*p\.yaml is not valid YAML: "),
    ("a: 1\n", r"pair file .*p\.yaml: b: Field required$"),
    ("a: 3\nb: 2\n", r"pair file .*p\.yaml: Value error, a must not exceed b$"),
    ("7\n", r"must be a mapping, not int$"),
])
def test_broken_files_are_one_line_errors(tmp_path, body, match):
    (tmp_path / "p.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=match) as info:
        load_model(tmp_path / "p.yaml", Pair, "pair file")
    assert "\n" not in str(info.value)


def test_missing_or_unreadable_files_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"pair file .*nope\.yaml is missing$"):
        load_model(tmp_path / "nope.yaml", Pair, "pair file")
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(ConfigError, match=r"pair file .*dir\.yaml cannot be read: "):
        load_model(tmp_path / "dir.yaml", Pair, "pair file")


def test_a_good_file_loads(tmp_path):
    (tmp_path / "p.yaml").write_text("a: 1\nb: 2\n", encoding="utf-8")
    assert load_model(str(tmp_path / "p.yaml"), Pair, "pair file") == Pair(a=1, b=2)
