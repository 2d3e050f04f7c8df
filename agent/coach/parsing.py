"""Tolerant reading of model output: find the JSON object, repair the usual slips, coerce it into EngineOutput."""

from __future__ import annotations

import re
from typing import Any, get_args

from agent.coach.engine import EngineInput, EngineOutput
from agent.core.jsontext import clean_text, extract_json  # noqa: F401 (extract_json: re-exported)
from agent.core.types import Citation, Commitment, Hit, Opener, Phase

PHASES: tuple[str, ...] = get_args(Phase)
MAX_QUESTIONS = 2
MAX_OPENERS = 3
_SENTENCE = re.compile(r"[^.!?\n]*\?")


def last_question(text: str) -> str:
    """The last sentence of text that ends in '?', or ''."""
    found = [s.strip(" \"'*-") for s in _SENTENCE.findall(text)]
    found = [s for s in found if len(s) > 3]
    return found[-1] if found else ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(_text(v) for v in value).strip()
    if isinstance(value, dict):
        return _text(value.get("text") or value.get("reply") or "")
    return " ".join(str(value).split())


# A whole field that is a <placeholder>, closed or not ("<what she's going to do>", "<the one open question"):
# a weak model writes the shape of an answer, and no part of it is an answer.
_PLACEHOLDER = re.compile(r"^\s*<[^<>]{0,160}>?\s*[.?!]?\s*$")


def meaningful(text: str) -> bool:
    """Whether text says anything: a weak model may fill fields with '...' or a <placeholder> of its own."""
    return any(ch.isalnum() for ch in text) and not _PLACEHOLDER.match(text)


def _hit_lookup(hits: list[Hit]) -> dict[str, Hit]:
    """Hit ids, plus the 1-based numbers and bracketed forms a small model may cite instead."""
    table: dict[str, Hit] = {}
    for n, hit in enumerate(hits, 1):
        for key in (hit.chunk.id, str(n), f"[{n}]", f"#{n}"):
            table.setdefault(key, hit)
    return table


def citation_for(hit: Hit) -> Citation:
    c = hit.chunk
    return Citation(source=c.source, title=c.title, chunk=c.chunk, text=c.text, link=c.link, start=c.start, end=c.end)


def _questions(data: dict[str, Any], reply: str) -> list[str]:
    raw = data.get("question")
    items = list(raw) if isinstance(raw, (list, tuple)) else [raw]
    extra = data.get("questions")
    items += list(extra) if isinstance(extra, (list, tuple)) else [extra]
    out: list[str] = []
    for item in items:
        q = _text(item)
        if meaningful(q) and q not in out:
            out.append(q)
    if not out:
        q = last_question(reply)
        if q:
            out.append(q)
    return out[:MAX_QUESTIONS]


def _openers(value: Any, lookup: dict[str, Hit]) -> list[Opener]:
    out: list[Opener] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict):
            continue
        text = _text(item.get("text") or item.get("opener"))
        if not meaningful(text):
            continue
        hit = lookup.get(_text(item.get("cited_id") or item.get("citation")))
        out.append(Opener(text=text, why=_text(item.get("why") or item.get("reason")),
                          citation=citation_for(hit) if hit else None))
    return out[:MAX_OPENERS]


def _commitment(value: Any) -> Commitment | None:
    if isinstance(value, str):
        value = {"what": value}
    if not isinstance(value, dict):
        return None
    what = _text(value.get("what"))
    if not meaningful(what):
        return None
    return Commitment(what=what, by_when=_text(value.get("by_when") or value.get("when")),
                      measure=_text(value.get("measure") or value.get("how")))


def coerce(data: dict[str, Any] | None, raw: str, inp: EngineInput, fallback: str = "") -> EngineOutput:
    """A valid EngineOutput from whatever the model gave: every field checked, nothing invented."""
    data = data if isinstance(data, dict) else {}
    reply = _reply(data)
    if not reply and not data:
        reply = clean_text(raw)
    reply = reply if meaningful(reply) else fallback
    # no usable reply: its question alone is not a turn either, so the engine falls back whole
    questions = _questions(data, reply) if reply != fallback or not fallback else []
    if questions and questions[0] not in reply:
        reply = f"{reply} {questions[0]}".strip()
    lookup = _hit_lookup(inp.hits)
    cited_raw = data.get("cited_ids") or data.get("citations") or []
    cited_raw = cited_raw if isinstance(cited_raw, list) else [cited_raw]
    cited: list[str] = []
    for value in cited_raw:
        hit = lookup.get(_text(value))
        if hit and hit.chunk.id not in cited:
            cited.append(hit.chunk.id)
    phase = _text(data.get("phase")).lower()
    return EngineOutput(
        reply=reply,
        questions=questions,
        cited_ids=cited,
        openers=_openers(data.get("openers"), lookup),
        phase=phase if phase in PHASES else inp.phase,
        situation=inp.situation,
        commitment=_commitment(data.get("commitment")),
    )


def _reply(data: dict[str, Any]) -> str:
    value = data.get("reply") or data.get("response") or data.get("message")
    return value.strip() if isinstance(value, str) else _text(value)


def usable(data: dict[str, Any] | None) -> bool:
    """Whether the output is the JSON object asked for, with a reply (else the engine re-asks once)."""
    return isinstance(data, dict) and bool(_reply(data))


class ReplyStreamer:
    """Feeds on growing JSON text and returns the newly decoded part of its "reply" string, so replies stream."""

    _KEY = re.compile(r'"reply"\s*:\s*"')

    def __init__(self) -> None:
        self.sent = ""

    def feed(self, text_so_far: str) -> str:
        m = self._KEY.search(text_so_far)
        if not m:
            return ""
        decoded = _decode_partial(text_so_far[m.end():])
        if not decoded.startswith(self.sent):
            return ""
        delta, self.sent = decoded[len(self.sent):], decoded
        return delta


def _decode_partial(body: str) -> str:
    """Decode a JSON string body up to its closing quote or the end of what has arrived so far."""
    out: list[str] = []
    i = 0
    simple = {"n": "\n", "t": "\t", "r": "", '"': '"', "\\": "\\", "/": "/", "b": "", "f": ""}
    while i < len(body):
        ch = body[i]
        if ch == '"':
            break
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= len(body):
            break  # the escape is not complete yet
        nxt = body[i + 1]
        if nxt == "u":
            if i + 6 > len(body):
                break
            try:
                out.append(chr(int(body[i + 2:i + 6], 16)))
            except ValueError:
                pass
            i += 6
            continue
        out.append(simple.get(nxt, nxt))
        i += 2
    return "".join(out)
