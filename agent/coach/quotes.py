"""Their words, ready to give back: clauses cut at natural boundaries, pronouns turned round, short and whole."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import BaseModel

from agent.coach.lexicon import BOUND, COMMON_CAPS

MAX_QUOTE_WORDS = 12
# A quote never ends on one of these: it would stop mid-phrase ("... and you feel", "... in the").
FUNCTION_WORDS = frozenset("""
a an the and or but so yet nor to of in on at for with from by as into onto about than that which who whom
whose my your our their his its this these those is are was were be been being am
will would can could should shall may might must not if when while because since until just very really too
also then there what how why where i we they he she i'm you're we're they're i've you've i'd you'd i'll
you'll it's isn't aren't wasn't weren't don't doesn't didn't won't can't couldn't shouldn't wouldn't any
some every each no more most much many even only still like always never often usually sometimes maybe perhaps
probably already ever
""".split())
_SWAPS = {
    "i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "i'm": "you're",
    "im": "you're", "i've": "you've", "i'll": "you'll", "i'd": "you'd", "we": "you", "our": "your",
    "ours": "yours", "ourselves": "yourselves", "we're": "you're", "we've": "you've", "we'll": "you'll",
    "we'd": "you'd",
}
_US_SUBJECT = re.compile(r"\b(want|wants|need|needs|expect|expects|like|asked|ask|asks|told|tell|tells|get|got|"
                         r"gets|allow|allows|invite|invited) us(?= to\b)", re.I)
_VERB_FIXES = ((re.compile(r"\bI am\b", re.I), "you are"), (re.compile(r"\bI was\b", re.I), "you were"),
               (re.compile(r"\bI wasn't\b", re.I), "you weren't"), (re.compile(r"\bI ain't\b", re.I), "you aren't"),
               (re.compile(r"\bwe are\b", re.I), "you are"), (re.compile(r"\bwe were\b", re.I), "you were"))
_SUBJECT_WORDS = (r"(?i:i|i'm|i've|i'd|i'll|we|we're|we've|they|they're|he|he's|she|she's|it|it's|that|this|"
                  r"there|my|our|their|his|her|the\s+team|everyone|everybody|nobody|no\s+one|people|nothing|"
                  r"(?:one|some|two|most|all|none)\s+of\s+(?:them|us|my|our|the))")
_NAME = r"(?-i:[A-Z][a-z]+)"
_JOIN = re.compile(
    # "since" and "while" without a comma mostly say when ("doing it since I was sixteen"): no clause of its own
    rf"((?:,?\s+(?i:and|but|so|yet|because|although|though|whereas|and\s+now|and\s+then)|,\s+(?i:since|while))\s+"
    rf"(?=(?:(?i:honestly|frankly|now|then|also|really|actually|still)\s+)?(?:{_SUBJECT_WORDS}|{_NAME})\b)"
    r"|,\s+(?i:and|but|because|although|though|whereas|so|yet|even\s+though|except)\s+"
    r"|\s+(?i:but|because|even\s+though|although|whereas)\s+)")
_SPLIT = re.compile(r"(?<=[.!?])[\"”’')]*\s+|\s*[;:\n]\s*|\s+[-–—]+\s+|\.{3}\s*")
_LEAD_CLAUSE = re.compile(r"^(?:if|when|whenever|unless|until|once|although|though|while|as\s+soon\s+as|"
                          r"(?:the\s+)?(?:last|first|next)\s+time|every\s+time|each\s+time)\b[^,]{2,80},\s*", re.I)
_FILLERS = (  # longest first, so "so far" is taken whole before "so"
    r"when\s+i\s+put\s+it\s+like\s+that", r"the\s+honest\s+answer\s+is", r"(?:a\s+few|two|three|four|five|six|"
    r"several|a\s+couple\s+of)\s+(?:days|weeks|months|years)\s+ago", r"last\s+(?:week|month|year|time|night)",
    r"this\s+(?:week|morning|month|year)", r"thinking\s+about\s+it", r"put\s+like\s+that", r"the\s+thing\s+is",
    r"the\s+truth\s+is", r"at\s+the\s+same\s+time", r"to\s+be\s+honest", r"if\s+i'm\s+honest",
    r"at\s+the\s+moment", r"these\s+days",
    r"right\s+now", r"so\s+far", r"since\s+then", r"if\s+anything", r"in\s+fact", r"i\s+think", r"i\s+guess",
    r"i\s+suppose", r"i\s+mean", r"you\s+know", r"honestly", r"basically", r"actually", r"recently",
    r"yesterday", r"today", r"lately", r"really", r"again", r"still", r"also", r"well", r"just", r"like",
    r"hello", r"okay", r"then", r"and", r"but", r"tbh", r"hey", r"now", r"or", r"so", r"um", r"uh", r"hi", r"ok",
    r"interesting(?=,)", r"hm+(?=[,.!])",  # "Interesting, I did not think about it like this before"
)
_FILLER = re.compile(r"^(?:" + "|".join(_FILLERS) + r")\b[\s,]*", re.I)
# "Hi, myself Karthik, I am working as ...": an introduction, not something to give back ("yourself Karthik").
_NAMED = re.compile(r"^(?i:myself|my\s+name\s+is|this\s+is)\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?\s*[,.][\s,]*(?=(?i:i\b))")
_NUMBER = re.compile(r"^(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|a\s+few)$", re.I)
_ASIDE = re.compile(r",\s*(?:if\s+i'm\s+honest|to\s+be\s+honest|honestly|i\s+think|i\s+guess|i\s+suppose),",
                    re.I)
_TAIL_FILLER = re.compile(r",?\s+(?:to\s+be\s+honest|if\s+i'm\s+honest|honestly|i\s+think|i\s+guess|really|"
                          r"i\s+suppose|you\s+know|though)\s*$", re.I)
_TAIL_CUT = frozenset("in at on for with during after before about because when while since until without "
                      "instead rather whenever unless and or but so now as by".split())
_AUX = frozenset("""
is isn't are aren't was wasn't were weren't has hasn't have haven't had hadn't will won't would wouldn't can
can't could couldn't should shouldn't do don't does doesn't did didn't keeps keep kept never always still just
only really also seems seem seemed must might may says said thinks thought told tells wants wanted needs
needed feels felt gets got makes made goes went comes came knows knew sees saw takes took gives gave asks
sounds looks
asked ignores ignored blocks blocked undermines overrides overrode pushes pushed rolls rolled stopped stops
starts started tries tried sighs sighed questions questioned runs ran hears heard sends sent clash clashes
compete competes won't barely hardly rarely often sometimes ignore block undermine override push question
""".split())
_VERBS = frozenset("""
am be been being go going feel feeling want need like love hate miss think know see say tell ask make take give
get run lead manage work help try keep let put bring find call talk spend do doing have having lose losing
expect expects need needs want wants love loves think thinks know knows depend depends
""".split())
_SUBJECTS = frozenset("i i'm i've i'd i'll we we're we've he she they it it's that's".split())
_PRONOUNS = frozenset("he she they it everyone everybody nobody people that this".split())
_OPENERS = frozenset("what how whether which who that if why where when".split())
_ADVERBS = re.compile(r"^(?:honestly|actually|basically|really|just|literally|kind\s+of|sort\s+of)\s+", re.I)
_INTRO = re.compile(r"^(?:i'm\s+(?:an?|the)\s|i\s+am\s+(?:an?|the)\s|i\s+(?:run|manage|lead|work\s+(?:in|at|for|as))\s|"
                    r"(?:\w+\s+){1,3}(?:runs|manages|leads|heads)\s+(?:the|a|our)\s)", re.I)


class Phrase(BaseModel):
    """A clause worth giving back: who (already in the coach's voice) and what, in their own words."""

    text: str  # the clause as they wrote it
    subject: str  # "you", "Priya and your other peers", or "" when the clause has no subject of its own
    rest: str  # the rest, pronoun-shifted: "ignore your proposals in planning meetings"

    @property
    def quoted(self) -> str:
        """Subject outside the quotation marks, their words inside: "Priya 'ignores your proposals'"."""
        return f"{self.subject} '{self.rest}'".strip()

    @property
    def plain(self) -> str:
        """The same, unquoted: a paraphrase in the coach's voice."""
        return f"{self.subject} {self.rest}".strip()

    @property
    def words(self) -> int:
        return len(self.plain.split())


def shift_pronouns(text: str) -> str:
    """Turn the speaker's first person into the coach's second person ("my team" -> "your team")."""
    def swap(m: re.Match[str]) -> str:
        word = m.group(0)
        return _SWAPS.get(word.lower().replace("’", "'"), word)

    for pattern, repl in _VERB_FIXES:
        text = pattern.sub(repl, text)
    # "us" is them and theirs, never the coach: "you want us to" would put the coach in; "you want you to" is
    # not English, so "want us to" becomes "want all of you to", and any other "us" plain "you".
    text = _US_SUBJECT.sub(lambda m: f"{m.group(1)} all of you", text)
    text = re.sub(r"\bus\b", "you", text)
    return re.sub(r"[A-Za-z’']+", swap, text)


def quoted_phrases(message: str) -> list[str]:
    """Phrases the person put in quotation marks themselves."""
    found = re.findall(r"(?:^|\s)[\"“]([^\"”]{3,80})[\"”]", message)
    found += re.findall(r"(?:^|\s)['‘]([^'’]{3,80})['’](?=[\s.,!?;:]|$)", message)
    return [f.strip(" .,!?") for f in found if f.strip()]


def strip_filler(text: str) -> str:
    """A clause without the hedges and fillers that open or close it ("honestly, I think ...")."""
    text = _TAIL_FILLER.sub("", _ASIDE.sub(",", text.strip(" .!,\"'“”‘’")))
    while True:
        trimmed = _NAMED.sub("", _FILLER.sub("", text)).strip(" ,")
        if trimmed == text:
            return text
        text = trimmed


@lru_cache(maxsize=1024)
def _clauses(message: str) -> tuple[str, ...]:
    out: list[str] = []
    for sentence in _SPLIT.split(message.replace("’", "'").strip()):
        sentence = strip_filler(sentence)
        lead = _LEAD_CLAUSE.match(sentence)
        if lead and len(sentence[lead.end():].split()) >= 2:
            sentence = sentence[lead.end():]  # "The last time I hinted at it, he laughed it off": the main clause
        for part in _joined(_JOIN.split(sentence)):
            part = strip_filler(part)
            if len(part.split()) >= 2:
                out.append(part)
    return tuple(out)


def _joined(pieces: list[str]) -> list[str]:
    """Split pieces, with a fragment too short to be a clause ("Priya" of "Priya and my peers") put back."""
    parts, seps = pieces[::2], pieces[1::2]
    out = [parts[0]]
    for sep, part in zip(seps, parts[1:]):
        if len(out[-1].split()) < 3 or len(part.split()) < 2:
            out[-1] = out[-1] + sep + part
        else:
            out.append(part)
    return out


def clauses(message: str) -> list[str]:
    """The message cut into sentences and clauses (at 'but', 'because', ', and I ...'), fillers trimmed."""
    return list(_clauses(message))


def ends_cleanly(words: list[str]) -> bool:
    """Whether a run of words ends on a content word, not mid-phrase."""
    return bool(words) and words[-1].lower().strip(",.;:!?'\"") not in FUNCTION_WORDS


def trim(clause: str, limit: int = MAX_QUOTE_WORDS, *, parsed: bool = False) -> str:
    """A clause cut to at most `limit` words at a phrase boundary, or '' when no clean cut exists.

    parsed: the parse must agree too (see _cut_ok); for the two sides of a pull and a plan, which are given back
    as they are, not ranked against other phrases first."""
    words = clause.strip(" ,.").split()
    if len(words) <= limit:
        # Their clause whole, or nothing: dropping its last word would leave it open ("... looks").
        return " ".join(words) if ends_cleanly(words) else ""
    for end in range(limit, 1, -1):
        head = words[:end]
        nxt = words[end].lower()
        boundary = head[-1].endswith(",") or nxt in _TAIL_CUT or (nxt == "of" and end >= 5)
        if head[-1].lower() in BOUND.get(nxt, ()):
            continue
        if nxt in ("and", "or") and _NUMBER.match(head[-1]) or (end + 1 < len(words) and nxt in ("and", "or")
                                                                and _NUMBER.match(words[end + 1])):
            continue  # "two | or three smart people"
        # Cutting inside "what a good week | in this job" would leave a clause open.
        open_clause = head[-1].lower() == "to" or _open_wh(head)
        if boundary and not open_clause and ends_cleanly([w.rstrip(",") for w in head]) and \
                (not parsed or head[-1].endswith(",") or _cut_ok(words, end)):  # at a comma: "A, not just B" -> "A" stands
            return " ".join(head).rstrip(",")
    return ""


def _cut_ok(words: list[str], end: int) -> bool:
    """Whether the parse agrees the first `end` words stand alone ('maybe I could negotiate | with my boss that I
    keep ...' leaves 'negotiate' without what it is about): the same test the garbled-quote grader applies."""
    from agent.coach.nlp import half_said, parse

    doc = parse(" ".join(words))
    cut_at = len(" ".join(words[:end]).rstrip(","))
    stop = next((t.i for t in doc if t.idx >= cut_at), len(doc))
    return not half_said(doc, 0, stop)


def _open_wh(head: list[str]) -> bool:
    """Whether the head ends inside a wh- or that-clause still waiting for its verb ('what a good week')."""
    for i in range(len(head) - 1, max(len(head) - 6, -1), -1):
        if head[i].lower() in _OPENERS:
            return not has_verb(" ".join(head[i + 1:]))
    return False


def split_subject(clause: str) -> tuple[str, str]:
    """(subject, rest), both in the coach's voice; the subject is '' when the clause opens with its verb."""
    words = clause.split()
    low = [w.lower() for w in words]
    lead = re.match(r"^(?:on|in|at|for|with|during|after|before|across|around|over|within|throughout)\b[^,]{2,40}"
                    r"(?:,\s*|\s+(?=(?:i|i'm|i've|we|he|she|they)\b))", clause, re.I)
    if lead and len(words) > 6:
        return split_subject(clause[lead.end():])  # "On my ward, the huddle only works ...": the huddle is it
    if len(low) > 2 and low[0] == "that" and re.match(r"(?:i|it|he|she|they|we|you)\b", low[1]):
        return split_subject(" ".join(words[1:]))  # "that it'll reflect on me": 'that' joins, it is no subject
    first = low[0] if low else ""
    if first in ("i", "i'm", "i've", "i'd", "i'll", "we", "we're", "we've", "we'll"):
        head = {"i": "you", "we": "you"}.get(first, shift_pronouns(words[0]).lower())
        rest = words[1:]
        if first in ("i", "we") and rest and rest[0].lower() in ("am", "are", "was", "were"):
            head = "you're" if rest[0].lower() in ("am", "are") else "you were"
            rest = rest[1:]
        return head, _ADVERBS.sub("", shift_pronouns(" ".join(rest)))
    if re.match(r"^(?:it|that|there|this|he|she|they|what|who)(?:'s|'re|'ll|'d|'ve)$", first):
        return shift_pronouns(first), shift_pronouns(" ".join(words[1:]))
    if first in _PRONOUNS and len(words) > 2:
        return first, shift_pronouns(" ".join(words[1:]))
    if first in ("maybe", "perhaps", "probably") and len(low) > 2 and low[1] in _SUBJECTS:
        subject, rest = split_subject(" ".join(words[1:]))
        return f"{first} {subject}", rest
    for i in range(1, min(len(words), 9)):
        word = low[i].strip(",")
        verbish = word in _AUX or word in _VERBS or (word.endswith("ed") and len(word) > 4 and i <= 3)
        if verbish and low[i - 1].strip(",") not in FUNCTION_WORDS:
            subject = " ".join(words[:i]).rstrip(",")
            if re.search(r"\b(?:who|that|which|i|we|he|she|they)\b", " ".join(low[1:i])):
                break
            return _short_subject(shift_pronouns(subject)), shift_pronouns(" ".join(words[i:]))
    return "", shift_pronouns(_lower_first(clause))


def _short_subject(subject: str) -> str:
    """'your peer Priya, head of product' -> 'Priya': an appositive is dropped and a name stands alone."""
    head = subject.split(",")[0].strip()
    names = re.findall(r"(?<!^)\b[A-Z][a-z]+\b", head)
    if "," in subject and names:
        return names[-1]
    return _lower_first(head)


def looks_like_name(word: str) -> bool:
    """A capitalised word that is probably a name ('Priya'), not a sentence's first word ('Maybe', 'Everyone')."""
    low = word.lower().strip(",.'")
    return (word[:1].isupper() and word[1:].replace("'s", "").isalpha() and word[1:].islower()
            and low not in FUNCTION_WORDS and low not in COMMON_CAPS
            and not low.endswith(("ing", "ly", "ness", "ment", "tion", "ship", "ed")))


def _lower_first(text: str) -> str:
    """Lower-case a sentence's first word unless it is a name or 'I'."""
    first = text.split(" ", 1)[0]
    if first in ("I", "I'm", "I've", "I'd", "I'll") or looks_like_name(first):
        return text
    return text[:1].lower() + text[1:]


OVER_LIMIT = 4  # words a whole clause may run over its limit rather than be cut mid-clause


def phrase_of(clause: str, limit: int = MAX_QUOTE_WORDS) -> Phrase | None:
    """A clause as a Phrase, cut cleanly to the limit; None when it cannot be said whole and short."""
    from agent.coach.nlp import is_clause, undislocated

    clause = _DROPPED_I.sub(lambda m: _SPEAKER_FOR[m.group(1).lower()[:3]] + m.group(1), clause.strip(" ,."))
    clause = undislocated(clause)
    finite = _finite(clause)
    if finite is None:
        return None  # "people actually deciding stuff": a fragment, not a clause to give back
    if finite == 0:  # "got made team lead last month": terse talk drops the speaker
        first, _, tail = clause.partition(" ")
        first = first if looks_like_name(first) else first[:1].lower() + first[1:]
        # The dropped "I" put back, so the verb agrees: "Was a joiner" is "you were a joiner", not "you Was ..."
        subject, rest = "you", shift_pronouns(f"I {first} {tail}".strip()).removeprefix("you ")
    else:
        subject, rest = split_subject(clause)
    full = rest.strip(" ,")
    rest = trim(full, max(limit - len(subject.split()), 3))
    if rest and rest != full and cuts_short(full, rest):
        # "she'd probably be up [for it]": cut short, it no longer says what they said; a few words over is better
        if len(f"{subject} {full}".split()) > limit + OVER_LIMIT:
            return None
        rest = full
    if not rest or not (subject or has_verb(rest)) or len(f"{subject} {rest}".split()) < 2:
        return None
    if not subject and rest.split()[0].lower() in _AUX:
        return None  # "is ridiculous": a predicate whose subject was left behind
    if not is_clause(f"{subject} {rest}"):
        return None  # "handling a kid who kicks off": a finite verb, but only inside a fragment
    rest = re.sub(r"\b(?:whether|if) you should\b", "whether to", rest)
    return Phrase(text=clause, subject=subject, rest=rest)


_DROPPED_I = re.compile(r"^(not\s+sure|no\s+idea|don'?t\s+know|do\s+not\s+know)\b", re.I)
_SPEAKER_FOR = {"not": "I'm ", "no ": "I have ", "don": "I ", "do ": "I "}  # terse talk drops the speaker


def cuts_short(full: str, kept: str) -> bool:
    """Whether keeping only the start `kept` of `full` leaves one of its core dependents behind."""
    from agent.coach.nlp import cuts_clause, parse

    doc = parse(full)
    return cuts_clause(doc, 0, min(len(parse(kept)), len(doc)))


def _finite(text: str) -> int | None:
    """Index of the clause's first finite verb, or None when it has none (a fragment)."""
    from agent.coach.nlp import parse

    for i, tok in enumerate(parse(text)):
        if tok.tag_ in ("VBD", "VBZ", "VBP", "MD"):
            return i
    return None


def has_verb(text: str) -> bool:
    """A rough check that words make a clause, not just a noun phrase ('your peer Priya, head of product')."""
    for word in text.lower().replace(",", "").split():
        if word in _AUX or word in _VERBS or word.endswith(("ed", "n't", "'s", "'re", "'ve", "'ll", "'d", "'m")):
            return True
    return False


def is_intro(clause: str) -> bool:
    """'I'm a pharmacist', 'I run a small clinic': who they are, not what is happening."""
    return bool(_INTRO.match(clause)) and len(clause.split()) <= 12
