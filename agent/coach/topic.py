"""The thing a message is about, as a short noun phrase in the coach's voice ("the pairing", "your budget")."""

from __future__ import annotations

import re
from functools import lru_cache

MAX_WORDS = 4
# Nouns that name a time, an amount or the talk itself: "What is happening with the week?" follows nothing.
_VAGUE = frozenset("""
time times day days week weeks month months year years moment bit lot lots thing things stuff way ways point
kind sort part side end start today tomorrow night morning afternoon evening minute minutes hour hours job
work question answer idea ideas honesty fact case problem issue situation everything something nothing one ones
people person guy guys anyone someone everyone nobody other others home office place room desk front back top
bottom head mind shoulder spot rest truth word words fault bit line hand hands eye eyes face feet foot heart half
fine idiot mark area name names feeling feelings plate weekend weekends tonight monday tuesday wednesday thursday
friday saturday sunday
""".split())
_ALSO_VERBS = frozenset("""trust ring work need want say know think run call look play make take go come get feel keep
start show tell ask help turn move stand sit hold bring cost mean change""".split())
_ROLES = frozenset({"dobj", "pobj", "nsubj", "nsubjpass", "attr", "conj", "appos", "dative"})
_SWAP = {"my": "your", "our": "your", "mine": "yours", "me": "you", "us": "you"}


def topic_of(message: str, avoid: frozenset[str] = frozenset()) -> str:
    """The message's most concrete noun phrase, at most four words, pronouns swapped; "" when none is safe."""
    return _topic(message.strip(), avoid)[0]


def topic_in_past(message: str, avoid: frozenset[str] = frozenset()) -> bool:
    """Whether the topic comes from a clause told in the past ("last year I escalated it"): what happened then,
    not what is happening with it now, is the question."""
    return _topic(message.strip(), avoid)[1]


@lru_cache(maxsize=1024)
def _topic(message: str, avoid: frozenset[str]) -> tuple[str, bool]:
    from agent.coach.nlp import WHEN, parse

    if len(message.split()) < 3:
        return "", False
    best, best_score, past = "", 0.0, False
    doc = parse(message)
    for chunk in doc.noun_chunks:
        root = chunk.root
        if root.pos_ not in ("NOUN", "PROPN") or root.lower_ in _VAGUE or root.lemma_.lower() in _VAGUE:
            continue
        if root.dep_ not in _ROLES or root.lower_ in avoid:
            continue
        if root.dep_ == "pobj" and root.head.lower_ in WHEN:
            continue  # a when, not a what (and "before the tenant rings" parses as a noun)
        if _set_against(root):
            continue  # "more than my own calculations", "instead of the tools": what it is weighed against
        if root.dep_ == "pobj" and root.head.lower_ in ("like", "as") or \
                root.dep_ == "attr" and root.head.lemma_.lower() in ("feel", "seem", "look", "sound"):
            continue  # "I feel like a fraud": how they feel, not a thing to be different about
        after_noun = chunk.start > 0 and doc[chunk.start - 1].pos_ in ("NOUN", "PRON", "PROPN")
        if root.tag_ == "NNS" and any(c.dep_ == "compound" for c in root.children) and \
                root.lemma_.lower() in _ALSO_VERBS and after_noun:
            continue  # "someone the kitchen trusts": a clause the parser read as one noun
        span = list(chunk)
        nxt = doc[root.i + 1] if root.i + 1 < len(doc) else None
        if root.dep_ == "pobj" and nxt is not None and nxt.tag_ == "VBZ" and nxt.lemma_.lower() in _ALSO_VERBS:
            span.append(nxt)  # "into the test runs": a compound noun the parser read as noun + verb
        words = [t for t in span if not (t.i == chunk.start and t.dep_ == "det" and t.lower_ in ("a", "an"))]
        words = [t for t in words if (t.pos_ not in ("ADV", "PUNCT") or t.text == "-" and not t.whitespace_
                                       and t.i > 0 and not doc[t.i - 1].whitespace_)
                 and t.lower_ not in ("this", "that", "these")]  # "heads-up" keeps its hyphen
        if any(t.lower_ in ("every", "each", "all", "any", "some", "no") for t in chunk):
            continue  # "every all-hands": a frequency, not a thing
        if not words or len(words) > MAX_WORDS or any(t.like_num and t.i != root.i for t in words[:1]):
            continue
        text = _joined(words, root.i)
        bare = len(words) == 1 and root.tag_ == "NN" and not any(c.dep_ in ("det", "poss") for c in root.children)
        if bare and (root.dep_ == "pobj" or nxt is not None and (nxt.pos_ in ("NOUN", "PROPN") or nxt.tag_ == "VB")):
            continue  # "head of department", "in practice", "of course", "team lead": idioms, not things to ask about
        if chunk[0].lower_ in ("a", "an"):
            text = f"the {text}"  # "a new profession", said again, is "the new profession"
        # objects first: they carry what the person is doing something about; later mentions are fresher
        score = (2.0 if root.dep_ in ("dobj", "pobj") else 1.0) + 0.02 * root.i + 0.3 * (root.pos_ == "NOUN")
        if bare:
            score -= 1.2  # "shown interest": a bare noun is a last resort beside "your sales associates"
        if score > best_score:
            best, best_score, past = text, score, _told_in_past(root)
    return best, past


_THEN = re.compile(r"\b(?:last\s+(?:year|week|month|time|spring|summer|autumn|winter|quarter)|yesterday|ago|"
                   r"at\s+that\s+time|the\s+one\s+time|back\s+then|in\s+20\d\d)\b", re.I)


def _told_in_past(root) -> bool:
    """Whether the noun is in a story: its verb a simple past ("escalated", "had"), not a present or "I've done",
    in a clause that says when ("last year", "the one time"). "They gave me my own store" is still now."""
    tok = root
    while tok.pos_ not in ("VERB", "AUX") and tok.head.i != tok.i:
        tok = tok.head
    if tok.pos_ not in ("VERB", "AUX"):
        return False
    auxes = [c for c in tok.children if c.dep_ in ("aux", "auxpass")]
    if any(a.tag_ in ("VBP", "VBZ", "MD") or a.lower_ in ("'ve", "have", "has", "'s") for a in auxes):
        return False  # "I've tried", "will go", "is being": not a story told about the past
    said_when = _THEN.search(root.doc[tok.left_edge.i:tok.right_edge.i + 1].text)  # its own clause says when
    return bool(said_when) and (tok.tag_ == "VBD" or any(a.tag_ == "VBD" for a in auxes))


def _set_against(root) -> bool:
    """Whether a noun is what the message weighs its point against: after "than", "instead of", "rather than"."""
    tok = root
    while tok.dep_ in ("pobj", "pcomp", "dobj", "conj") and tok.head.i != tok.i:
        tok = tok.head
        if tok.lower_ == "than" or tok.lower_ == "of" and (tok.head.lower_ in ("instead", "rather") or
                                                            any(c.lower_ in ("instead", "rather") for c in tok.children)):
            return True
        if tok.pos_ == "VERB" and tok.dep_ != "pcomp":
            return False
    return False


def _joined(words: list, root: int) -> str:
    """The words as written ("managers'" and "heads-up" stay whole), a space where a word was left out between,
    the speaker's pronouns swapped and all but names and the head noun lower-cased."""
    out = []
    for k, t in enumerate(words):
        word = _SWAP.get(t.lower_, t.text if t.pos_ == "PROPN" or t.i == root else t.lower_)
        gap = k + 1 < len(words) and words[k + 1].i != t.i + 1
        out.append(word + (t.whitespace_ or (" " if gap else "")))
    return "".join(out).strip()


def plan_gerund(plan: str) -> str:
    """'ask Dev for a coffee' -> 'asking Dev for a coffee'; "" unless the plan starts with a plain verb."""
    from agent.coach.lexicon import gerund as verb_ing
    from agent.coach.nlp import parse

    first, _, rest = plan.strip().partition(" ")
    low = first.lower()
    if not low.isalpha() or len(low) < 2 or low in ("be", "not", "never", "to", "try") or low.endswith("ing"):
        return ""
    if parse(f"I will {plan.strip()}")[2].pos_ != "VERB":
        return ""  # "probably ask", "first thing Monday": not a plain verb to turn
    return f"{verb_ing(low)} {rest}".strip()
