"""Token-aware chunking on heading, paragraph and sentence boundaries, with exact character offsets."""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from dataclasses import dataclass
from itertools import accumulate

from agent.core.tokens import encoding
from agent.core.types import Chunk
from agent.ingest.loaders import Document, plain_heading

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(\S.*?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_PARAGRAPH = re.compile(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*")  # a run of non-blank lines
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n")
MIN_MAX_TOKENS = 16


@dataclass
class Section:
    """A heading's span of text (its heading line included) and its heading path."""

    start: int
    end: int
    heading: str


@dataclass
class _Atom:
    """The unit packed into chunks: a paragraph, a sentence of a long one, or a slice of a huge sentence."""

    start: int
    end: int
    ntok: int
    para: bool  # starts a paragraph, so a chunk may end just before it


def sections(text: str) -> list[Section]:
    """Split on ATX headings outside code fences; a heading with no body joins the section after it."""
    found: list[Section] = []
    stack: list[tuple[int, str]] = []
    start, heading, fenced, pos = 0, "", False, 0
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match:
            found.append(Section(start, pos, heading))
            level = len(match.group(1))
            stack = [(lvl, name) for lvl, name in stack if lvl < level] + [
                (level, plain_heading(match.group(2)))
            ]
            start, heading = pos, " > ".join(name for _, name in stack)
        pos += len(line) + 1
    found.append(Section(start, len(text), heading))
    merged: list[Section] = []
    carry: int | None = None
    for n, sec in enumerate(found):
        body = text[sec.start : sec.end].strip()
        if not body:
            continue
        if "\n" not in body and _HEADING.match(body) and n + 1 < len(found):
            carry = sec.start if carry is None else carry
            continue
        merged.append(Section(sec.start if carry is None else carry, sec.end, sec.heading))
        carry = None
    if carry is not None:  # trailing headings with nothing after them
        merged.append(Section(carry, len(text), found[-1].heading))
    return merged


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _atoms(text: str, sec: Section, limit: int) -> list[_Atom]:
    """Paragraph atoms; paragraphs over `limit` tokens become sentences, and huge sentences token windows."""
    enc = encoding()
    atoms: list[_Atom] = []
    for match in _PARAGRAPH.finditer(text, sec.start, sec.end):
        a, b = _trim(text, match.start(), match.end())
        if a >= b:
            continue
        tokens = enc.encode(text[a:b], disallowed_special=())  # each paragraph is encoded once
        if len(tokens) <= limit:
            atoms.append(_Atom(a, b, len(tokens), True))
            continue
        offsets = [a + off for off in token_offsets(tokens, text[a:b])]
        first = True
        for sa, sb in _sentence_spans(text, a, b):
            for pa, pb in _windows(text, sa, sb, offsets, limit):
                n = bisect_left(offsets, pb) - bisect_left(offsets, pa)
                atoms.append(_Atom(pa, pb, max(n, 1), first))
                first = False
    return atoms


def _sentence_spans(text: str, a: int, b: int) -> list[tuple[int, int]]:
    spans, cursor = [], a
    for match in _SENTENCE_BREAK.finditer(text, a, b):
        spans.append(_trim(text, cursor, match.end()))  # closing quotes stay with their sentence
        cursor = match.end()
    spans.append(_trim(text, cursor, b))
    return [(x, y) for x, y in spans if x < y]


def _windows(text: str, a: int, b: int, offsets: list[int], limit: int) -> list[tuple[int, int]]:
    """Cut [a, b) into pieces of at most `limit` tokens, at a space when one is near."""
    out = []
    while a < b:
        i = bisect_left(offsets, a)
        if len(offsets) - i <= limit or offsets[min(i + limit, len(offsets) - 1)] >= b:
            out.append((a, b))
            break
        cut = offsets[i + limit]
        space = text.rfind(" ", a + 1, cut + 1)
        if space > a + (cut - a) // 2:
            cut = space
        if cut <= a:
            cut = a + 1
        out.append(_trim(text, a, cut))
        a = _trim(text, cut, b)[0]
    return [(x, y) for x, y in out if x < y]


def _split_atom(text: str, atom: _Atom, limit: int) -> list[_Atom]:
    """Re-cut one atom whose real token count overshot its estimate."""
    enc = encoding()
    tokens = enc.encode(text[atom.start : atom.end], disallowed_special=())
    offsets = [atom.start + off for off in token_offsets(tokens, text[atom.start : atom.end])]
    pieces = _windows(text, atom.start, atom.end, offsets, max(1, limit))
    if len(pieces) < 2:  # cannot cut at a token boundary: cut the characters in half
        mid = (atom.start + atom.end) // 2
        pieces = [p for p in (_trim(text, atom.start, mid), _trim(text, mid, atom.end)) if p[0] < p[1]]
    return [_Atom(x, y, count(text[x:y]), atom.para and k == 0) for k, (x, y) in enumerate(pieces)]


def count(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


def token_offsets(tokens: list[int], text: str) -> list[int]:
    """Character offsets in `text` where each of its tokens starts (a token starting mid-character maps to
    the next character), without tiktoken's slow per-token decode_with_offsets."""
    enc = encoding()
    starts = list(accumulate((len(enc.decode_single_token_bytes(t)) for t in tokens[:-1]), initial=0))
    if text.isascii():
        return starts
    import numpy as np

    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    char_index = np.concatenate(([0], np.cumsum((data & 0xC0) != 0x80)))  # chars begun before each byte
    return char_index[np.asarray(starts, dtype=np.int64)].tolist() if tokens else []


def _overlap_start(
    text: str, start: int, end: int, tokens: list[int], overlap: int
) -> tuple[int, int] | None:
    """Where the next chunk starts to repeat about `overlap` tokens: a sentence start, else a word."""
    if overlap <= 0 or len(tokens) <= overlap:
        return None
    enc = encoding()
    tail = [len(enc.decode_single_token_bytes(t)) for t in tokens[-overlap:]]
    body = text[start:end].encode("utf-8")
    tail_bytes = list(accumulate(tail, initial=len(body) - sum(tail)))[:-1]  # byte offset of each tail token
    cut = start + len(body[: tail_bytes[0]].decode("utf-8", "ignore"))

    def tokens_from(pos: int) -> int:
        byte = len(text[start:pos].encode("utf-8"))
        return overlap - bisect_left(tail_bytes, byte)

    sentence = _SENTENCE_BREAK.search(text, cut, end)
    if sentence and sentence.end() < end and tokens_from(sentence.end()) >= overlap // 2:
        cut = sentence.end()
    while cut < end and not text[cut - 1].isspace():  # move to the start of a word
        cut += 1
    cut = _trim(text, cut, end)[0]
    if cut >= end or cut <= start:
        return None
    return cut, tokens_from(cut)


def _pack(text: str, atoms: list[_Atom], max_tokens: int, overlap: int) -> list[tuple[int, int, int]]:
    """Greedy packing of atoms into (start, end, tokens) spans, preferring paragraph ends, with overlap."""
    out: list[tuple[int, int, int]] = []
    enc = encoding()
    i, carry = 0, None
    while i < len(atoms):
        start = carry[0] if carry else atoms[i].start
        budget = max_tokens - (carry[1] + 1 if carry else 0)
        used, j = 0, i
        while j < len(atoms):
            cost = atoms[j].ntok + (1 if j > i and atoms[j].para else 0)
            if j > i and used + cost > budget:
                break
            used, j = used + cost, j + 1
        if (
            j < len(atoms) and not atoms[j].para
        ):  # chunk is full mid-paragraph: end at a paragraph if not too early
            best, filled = j, 0
            for k in range(i, j):
                if k > i and atoms[k].para and filled >= budget // 2:
                    best = k
                filled += atoms[k].ntok
            j = best
        while True:  # the estimate can be off by a token or two at joins: check the real count
            tokens = enc.encode(text[start : atoms[j - 1].end], disallowed_special=())
            if len(tokens) <= max_tokens:
                break
            if j - 1 > i:
                j -= 1
            elif carry:
                carry, start = None, atoms[i].start
            else:
                atoms[i : i + 1] = _split_atom(text, atoms[i], atoms[i].ntok // 2)
                j = i + 1
        out.append((start, atoms[j - 1].end, len(tokens)))
        carry = _overlap_start(text, start, atoms[j - 1].end, tokens, overlap) if j < len(atoms) else None
        i = j
    return out


def chunk_document(doc: Document, max_tokens: int = 256, overlap_tokens: int = 40) -> list[Chunk]:
    """Chunks of at most `max_tokens` tokens; consecutive chunks of a section share about `overlap_tokens`."""
    if max_tokens < MIN_MAX_TOKENS:
        raise ValueError(f"max_tokens must be at least {MIN_MAX_TOKENS}")
    if not 0 <= overlap_tokens <= max_tokens // 2:
        raise ValueError("overlap_tokens must be between 0 and half of max_tokens")
    text = doc.text
    # Slack below the limit so that an atom plus the overlap still fits once re-encoded as one string.
    limit = max(4, max_tokens - overlap_tokens - max(2, max_tokens // 32))
    chunks: list[Chunk] = []
    for sec in sections(text):
        for start, end, ntok in _pack(text, _atoms(text, sec, limit), max_tokens, overlap_tokens):
            body = text[start:end]
            digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]
            n = len(chunks)
            chunks.append(
                Chunk(
                    id=f"{doc.source}#{digest}-{n}",
                    source=doc.source,
                    title=doc.title,
                    text=body,
                    chunk=n,
                    start=start,
                    end=end,
                    heading=sec.heading,
                    link=doc.link,
                    author=doc.author,
                    tokens=ntok,
                )
            )
    return chunks
