"""One canonical form of a message, so guardrail patterns see through case, accents, leetspeak and typos."""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Iterable, Mapping

# Invisible characters that split a word without showing ("sui\u200bcide").
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\ufeff\u00ad\u034f\u180e"), None)
# Latin look-alikes from other scripts, and letters NFKD does not decompose.
_LOOKALIKES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "і": "i", "ј": "j", "ѕ": "s",
    "к": "k", "м": "m", "т": "t", "н": "h", "в": "b", "ο": "o", "α": "a", "ε": "e", "ι": "i", "κ": "k",
    "ν": "v", "τ": "t", "ρ": "p", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
})
_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
                       "!": "i", "|": "l"})
_LEET_CHARS = re.compile(r"[013457@$!|]")
_SENTENCE_END = re.compile(r"[.!?;…]+(?=\s|$)|\n+")
_NON_WORD = re.compile(r"[^a-z0-9\n]+")
_RUNS = re.compile(r"([a-z])\1{2,}")
_SQUEEZE = re.compile(r"([a-z])\1+")
_TAG_CHARS = re.compile("[\U000e0000-\U000e007f]")
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_LEET_TOKEN = re.compile(r"(?<!\S)(?=\S*[013457@$!|])\S+")  # whole tokens holding a digit or symbol


def fold(text: str) -> str:
    """NFKC, casefold, Latin look-alikes mapped, accents stripped, invisible characters dropped."""
    if text.isascii():  # the common case: nothing to compose, decompose or strip
        return text.casefold()
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    text = _TAG_CHARS.sub("", text).casefold().translate(_LOOKALIKES)
    decomposed = unicodedata.normalize("NFKD", text)
    return _COMBINING.sub("", decomposed)


def _deleet_match(m: re.Match[str]) -> str:
    return _deleet(m.group(0))


def _deleet(token: str) -> str:
    """Read digits and symbols inside a word as letters ("k1ll", "$uicide"), but leave "1:1" and "q3" alone."""
    core = token.rstrip(".,!?;:)\"'")
    if not _LEET_CHARS.search(core.rstrip("0123456789")):  # "base64", "win11": a number suffix is not leet
        return token
    letters = sum(ch.isalpha() for ch in core)
    digits = sum(ch.isdigit() for ch in core)
    if letters < 2 or digits >= letters:
        return token
    return core.translate(_LEET) + token[len(core):]


def squeeze(word: str) -> str:
    """Collapse every run of a repeated letter, so "killl", "kil" and "kill" compare equal."""
    return _SQUEEZE.sub(r"\1", word)


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment edit distance (swaps count once), or limit + 1 once it is exceeded."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        prev2, prev = prev, row
    return prev[-1]


class Normaliser:
    """Turns raw text into lowercase ASCII words with " . " between sentences, key terms repaired."""

    def __init__(self, terms: Iterable[str], fuzzy_terms: Iterable[str], protected: Iterable[str] = (),
                 compounds: Mapping[str, str] | None = None, phrases: Mapping[str, str] | None = None) -> None:
        self.terms = set(terms) | set(fuzzy_terms)
        self.fuzzy_terms = sorted(set(fuzzy_terms))
        self.protected = set(protected)
        self.compounds = dict(compounds or {})
        self._squeezed = {squeeze(t): t for t in sorted(self.terms)}
        self._phrase_map = dict(phrases or {})
        self._phrases = (re.compile(r"\b(?:" + "|".join(map(re.escape, self._phrase_map)) + r")\b")
                         if self._phrase_map else None)
        self._cache: dict[str, str] = {}

    def canon(self, token: str) -> str:
        """The key term a (possibly misspelt) word stands for, or the word itself."""
        hit = self._cache.get(token)
        if hit is None:
            hit = self._canon(token)
            if len(self._cache) < 50_000:
                self._cache[token] = hit
        return hit

    def _canon(self, token: str) -> str:
        if token in self.compounds:
            return self.compounds[token]
        if token in self.terms or token in self.protected or not token.isalpha():
            return token
        squeezed = self._squeezed.get(squeeze(token))
        if squeezed:
            return squeezed
        if len(token) < 5:
            return token
        for term in self.fuzzy_terms:
            if term[0] != token[0]:
                continue
            limit = 2 if len(term) >= 10 else 1
            if osa_distance(token, term, limit) <= limit:
                return term
        return token

    def words(self, line: str) -> list[str]:
        """Canonical words of one already-cleaned sentence; spelt-out letters ("k m s") are joined into a key term."""
        tokens = line.split()
        out: list[str] = []
        i = 0
        while i < len(tokens):
            if len(tokens[i]) == 1 and tokens[i].isalpha():
                j = i
                while j < len(tokens) and len(tokens[j]) == 1 and tokens[j].isalpha():
                    j += 1
                joined = self.canon("".join(tokens[i:j])) if 3 <= j - i <= 40 else ""
                out.extend([joined] if joined in self.terms or " " in joined else tokens[i:j])
                i = j
                continue
            out.append(self.canon(tokens[i]))
            i += 1
        return out

    def __call__(self, text: str) -> str:
        """The normalised text: sentences of canonical words joined by " . "."""
        text = _APOSTROPHES.sub("", fold(text))
        text = _LEET_TOKEN.sub(_deleet_match, text)
        text = _RUNS.sub(r"\1\1", _NON_WORD.sub(" ", _SENTENCE_END.sub("\n", text)))
        joined = " . ".join(" ".join(self.words(s)) for s in text.split("\n") if s.strip())
        if self._phrases is not None:
            joined = self._phrases.sub(lambda m: self._phrase_map[m.group(0)], joined)
        return joined


BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")


def decode_base64(candidate: str) -> str:
    """Printable text hidden in a base64-looking run, or ""."""
    padded = candidate + "=" * (-len(candidate) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""
    printable = sum(ch.isprintable() or ch.isspace() for ch in text)
    return text if text and " " in text and printable / len(text) > 0.95 else ""


def encoded_payloads(text: str) -> list[str]:
    """Texts smuggled in base64 runs ("aWdub3JlIHByZXZpb3Vz..."), decoded."""
    return [d for d in (decode_base64(m.group(0)) for m in BASE64_RUN.finditer(text)) if d]
