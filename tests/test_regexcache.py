"""Cached regex bytecode gives patterns equal to re.compile's, and a damaged cache file only costs a recompile."""

from __future__ import annotations

import re

from agent.core.regexcache import RegexCache
from agent.safety.rules import RuleSet, load_rules

PATTERNS = [(r"\b(?:kill|hurt) (?P<who>my (?:boss|team))\b", 0), (r"^\[INST\]", re.MULTILINE), (r"(a|b)+c\1", 0)]


def test_cached_patterns_equal_compiled(tmp_path):
    first = RegexCache(tmp_path, "t", ["v1"])
    made = [first.compile(p, f) for p, f in PATTERNS]
    first.save()
    again = RegexCache(tmp_path, "t", ["v1"])
    assert again._entries  # read back from disk
    for (p, f), a, b in zip(PATTERNS, made, [again.compile(p, f) for p, f in PATTERNS], strict=True):
        assert a == b == re.compile(p, f)  # Pattern equality compares flags, pattern and bytecode
        assert b.groupindex == re.compile(p, f).groupindex
    assert again.compile(PATTERNS[0][0]).search("I could kill my boss").group("who") == "my boss"


def test_damaged_or_other_version_cache_recompiles(tmp_path):
    cache = RegexCache(tmp_path, "t", ["v1"])
    cache.compile("abc")
    cache.save()
    cache.path.write_bytes(b"not marshal")
    assert RegexCache(tmp_path, "t", ["v1"]).compile("abc") == re.compile("abc")
    assert RegexCache(tmp_path, "t", ["v2"]).path != cache.path  # other sources: another file


def test_rules_from_cache_match_fresh(coach_home, monkeypatch):
    spec = load_rules().spec
    RuleSet(spec)  # writes the cache into this test's COACH_HOME
    assert list((coach_home / "cache").glob("guardrails-*.marshal"))
    cached = RuleSet(spec)
    monkeypatch.setenv("COACH_CACHE", "0")
    fresh = RuleSet(spec)
    for a, b in zip(cached.categories, fresh.categories, strict=True):
        assert a.prefilter == b.prefilter
        assert [g.pattern for g in a.groups] == [g.pattern for g in b.groups]
