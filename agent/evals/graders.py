"""Deterministic graders for the form of coaching: questions, reflections, advice, talk time, repetition."""

from __future__ import annotations

import re

from agent.evals.grade import Grade, not_applicable, share
from agent.evals.textutil import content_words, jaccard, normalize, questions, statements, words
from agent.evals.transcript import Exchange, Transcript

RATIO_CAP = 3.0  # a turn with reflections and no question would otherwise score infinity

OPEN_STARTS = frozenset("what how which who whom whose where when why tell describe explain walk say share "
                        "imagine picture suppose".split())
CLOSED_STARTS = frozenset("do does did is are was were can could will would should have has had may might shall am "
                          "isn't aren't wasn't weren't don't doesn't didn't won't wouldn't couldn't shouldn't "
                          "haven't hasn't can't any anything right".split())
_FILLERS = frozenset("so and but then okay ok now well also yet or".split())
_WH = frozenset("what how which who where when why".split())
_INVITE = re.compile(r"^(can|could|would|will)\s+you\s+(tell|say|describe|walk|share|explain|talk)\b")


def classify_question(question: str) -> str:
    """'open' or 'closed', from the start of its last clause that begins like a question (MITI's usage)."""
    clauses = [c for c in re.split(r"[,;:—–]\s*|\s-\s", question) if c.strip()]
    for clause in reversed(clauses):
        tokens = [t for t in words(clause)]
        while tokens and tokens[0] in _FILLERS:
            tokens.pop(0)
        if not tokens:
            continue
        if tokens[0] in OPEN_STARTS:
            return "open"
        if tokens[0] in CLOSED_STARTS:
            return "open" if _INVITE.match(" ".join(tokens)) else "closed"
    return "open" if _WH & set(words(question)) else "closed"


def question_count(reply: str) -> int:
    return len(questions(reply))


def one_question_share(t: Transcript) -> Grade:
    """Share of coaching turns asking one question at a time (ICF PCC): exactly one, or none when the turn is
    reflections standing alone right after a turn of the same session that asked (MI's reflective listening)."""
    turns, bad, before = 0, [], None
    for e in t.exchanges:  # in order: a turn of reflections alone is judged by the turn before it
        if e.coaching:
            turns += 1
            n = question_count(e.turn.reply)
            if not (n == 1 or n == 0 and _listens(e, before)):
                bad.append(f"{n} questions: {e.turn.reply}")
        before = e
    return share(turns - len(bad), turns, "turns asking one question at a time", bad)


def _listens(e: Exchange, before: Exchange | None) -> bool:
    """A turn of reflections alone, after a coaching turn of its session that asked: never two in a row."""
    return bool(reflections_in(e.turn.reply)) and before is not None and before.coaching and \
        before.turn.session == e.turn.session and question_count(before.turn.reply) == 1


def open_question_share(t: Transcript) -> Grade:
    """Share of the coach's questions that are open (what/how/... rather than do/is/can/...)."""
    asked = [q for e in t.coaching_exchanges for q in questions(e.turn.reply)]
    closed = [q for q in asked if classify_question(q) == "closed"]
    return share(len(asked) - len(closed), len(asked), "questions open", closed)


_REFLECTION_START = re.compile(
    r"^(?:when\b[^,]*,\s*)?(?:(?:so|and|but|it\s+seems|clearly)[,\s]+)?(?:"
    r"i\s+imagine|i\s+guess\s+(?:that\s+)?(?:you|it|this)|my\s+sense\s+is|i\s+wonder\s+if\s+you|"
    r"let\s+me\s+(?:check|make\s+sure|summari[sz]e|see\s+if)|so\s+far\s+you|"
    r"(?:it\s+|this\s+|that\s+)?(?:sounds|seems|looks|feels)\s+(?:like|as\s+if|as\s+though|that|\w+)"
    r"|you\b|your\b|part\s+of\s+you|on\s+(?:the\s+)?one\s+hand"
    r"|(?:what\s+)?i(?:'m|\s+am)\s+hearing|i\s+hear|i\s+notice|i\s+sense|i\s+get\s+the\s+(?:sense|feeling)"
    r"|there(?:'s|\s+is)\s+(?:a\s+part|something)|that\s+must|this\s+must"
    r"|(?:being|losing|watching|having|hearing|leading|managing|carrying|giving)\s)")
_SELF_TALK = re.compile(r"^(?:i|i'm|i've|i'd|i'll|let's|let\s+me|here|thanks|thank|welcome|hello|hi)\b")
# The coach's own stance ("Okay, I'm with you.", "You're right to pull me back."): heard, but nothing of theirs
# given back, so not a reflection (MITI counts only statements that capture the client's meaning).
_STANCE = re.compile(r"^(?:okay,?\s+i'm\s+with\s+you|got\s+it|fair\s+point|you're\s+right\s+to\s+pull\s+me|"
                     r"that's\s+okay:\s+not\s+knowing|fair\s+enough;\s+let's|if\s+it\s+would\s+help,\s+i\s+can\s+share)\b")
_CITED = re.compile(r"\[\d+\]")  # a cited sentence gives back a source, not the client

_FEELINGS = ("afraid angry annoy anxious apprehensive ashamed betray bitter burn conflicted confus crush deflat "
             "disappoint discourag drain dread embarrass exhaust exposed fear frustrat guilt heavy helpless hopeful "
             "hurt insecure invisible isolat jealous lonely lost nervous overwhelm powerless pressure proud relie "
             "resent sad scared shame sting stuck tense tired torn uneasy unsettl upset vulnerab weary worr wounded "
             "excited energi hope relieved grateful stretched alone doubt uncertain stress wear weigh worn fed up "
             "demoralis demoraliz cornered dismissed unseen unheard undervalu frighten panic irritat sore").split()
_FEELING_RE = re.compile(r"\b(?:" + "|".join(_FEELINGS) + r")\w*", re.I)
_MEANING_RE = re.compile(
    r"\b(?:matters?\s+to\s+you|important\s+to\s+you|you\s+care|you\s+value|you\s+want\s+to\s+be|really\s+about|"
    r"underneath|what's\s+at\s+stake|which\s+means|means\s+to\s+you|for\s+you|because|more\s+than|the\s+cost|"
    r"who\s+you\s+are|part\s+of\s+how\s+you|says\s+something\s+about)\b", re.I)
_DOUBLE_RE = re.compile(
    r"\b(?:on\s+(?:the\s+)?one\s+hand|on\s+the\s+other|and\s+yet|at\s+the\s+same\s+time|part\s+of\s+you|"
    r"but\s+also|and\s+also|torn\s+between|pulled\s+between|even\s+though|while\s+(?:also\s+)?(?:part|you))\b",
    re.I)


_REFLECTIVE_FRAME = re.compile(
    r"^(?:when\b[^,]*,\s*)?(?:so,?\s+)?(?:i\s+imagine|i\s+guess|my\s+sense\s+is|i\s+wonder\s+if|"
    r"it\s+(?:sounds|seems|looks)|sounds\s+like|you\s+(?:said|mentioned|feel|felt|told|described|"
    r"say|seem|sound|are\s+saying)|you're\s+saying|so,?\s+as\s+you\s+see\s+it|on\s+(?:the\s+)?one\s+hand|part\s+of\s+you|(?:what\s+)?i'm\s+hearing|"
    r"i\s+hear|when\s+you\s+say)\b")


def is_advice(sentence: str) -> bool:
    """Telling the person what to do; 'you need to...' inside a reflection ('it sounds like...') restates, not advises."""
    s = sentence.lower().replace("’", "'").strip()
    if _REFLECTIVE_FRAME.match(s):
        return any(p.search(s) for p in _ADVICE[1:])
    return any(p.search(s) for p in _ADVICE) or _imperative(s)


def is_reflection(sentence: str) -> bool:
    """A statement that gives the person's experience back to them (not advice, not the coach talking of itself)."""
    s = sentence.strip().lower().replace("’", "'")
    if len(words(s)) < 3 or s.rstrip().endswith("?") or _SELF_TALK.match(s) and not _REFLECTION_START.match(s):
        return False
    if is_advice(s) or _STANCE.match(s) or _CITED.search(s):
        return False
    return bool(_REFLECTION_START.match(s) or re.search(r"\byou(?:'re|'ve|r)?\b", s))


def reflection_kind(sentence: str) -> str:
    """'complex' when it adds feeling, meaning or both sides of a dilemma; otherwise 'simple' (a restatement)."""
    if _DOUBLE_RE.search(sentence) or _MEANING_RE.search(sentence) or _FEELING_RE.search(sentence):
        return "complex"
    return "simple"


def reflections_in(reply: str) -> list[str]:
    return [s for s in statements(reply) if is_reflection(s)]


def reflection_to_question(t: Transcript) -> Grade:
    """Reflections per question (MITI 4.2.1: 1:1 fair, 2:1 good), capped at RATIO_CAP."""
    turns = t.coaching_exchanges
    if not turns:
        return not_applicable("no coaching turns")
    r = sum(len(reflections_in(e.turn.reply)) for e in turns)
    q = sum(question_count(e.turn.reply) for e in turns)
    ratio = RATIO_CAP if q == 0 and r else (min(r / q, RATIO_CAP) if q else 0.0)
    return Grade(score=ratio, detail=f"{r} reflections : {q} questions = {ratio:.2f}")


def complex_reflection_share(t: Transcript) -> Grade:
    """Share of reflections that are complex (MITI 4.2.1: 40% fair, 50% good)."""
    refl = [s for e in t.coaching_exchanges for s in reflections_in(e.turn.reply)]
    simple = [s for s in refl if reflection_kind(s) == "simple"]
    return share(len(refl) - len(simple), len(refl), "reflections complex", simple)


_ADVICE = [re.compile(p) for p in (
    r"\byou\s+(?:should|ought\s+to|must|need\s+to|have\s+to|had\s+better|'d\s+better|might\s+want\s+to|"
    r"may\s+want\s+to|could\s+try|can\s+try|want\s+to\s+make\s+sure)\b",
    r"\bi(?:\s+would|'d|\s+strongly)?\s+(?:recommend|suggest|advise|urge)\b",
    r"\bmy\s+(?:advice|suggestion|recommendation|tip)\b",
    r"\bthe\s+(?:best|right|smart)\s+(?:thing|move|approach|way)\b",
    r"\bwhy\s+(?:don't|not)\s+you\b|^why\s+not\b|^(?:so,?\s+|and\s+)?have\s+you\s+tried\b",
    r"\b(?:it's|it\s+is)\s+(?:best|wise|important|essential|crucial|a\s+good\s+idea)\s+to\b",
    r"\b(?:a\s+good|one)\s+(?:idea|option|approach|step)\s+(?:is|would\s+be)\s+to\b",
    # an idea credited to others is still advice: "Some managers in this spot find it helps to ..."
    r"\b(?:some|many|most|other)\s+(?:\w+\s+)?(?:managers|leaders|people|teams|coaches)\s+(?:\w+\s+){0,4}?"
    r"(?:find\s+it\s+helps?|find\s+that|have\s+found|tend\s+to|try)\b",
    r"\bone\s+thing\s+(?:some\s+|many\s+|other\s+)?(?:managers|leaders|people)\s+(?:try|do)\b",
)]
_IMPERATIVES = frozenset("talk tell schedule send ask set start stop consider try make give have book write email call "
                         "delegate focus remember avoid don't do go let be get keep speak meet bring share put take "
                         "find plan prepare document escalate raise reach create build list map rate invite "
                         "acknowledge apologize apologise thank offer push hold block spend check".split())
_FACILITATION = re.compile(r"^(?:tell\s+me|say\s+more|share\s+(?:with\s+me|more)|take\s+(?:a\s+(?:moment|breath|minute)"
                           r"|your\s+time)|let's|let\s+me|think\s+(?:about|back)|imagine|picture|notice|go\s+on|"
                           r"do\s+tell|have\s+a\s+think|keep\s+going)\b")


def _imperative(s: str) -> bool:
    tokens = words(re.sub(r"^(?:so|and|then|just|maybe|perhaps|first)[,\s]+", "", s))
    return bool(tokens) and tokens[0] in _IMPERATIVES and not _FACILITATION.match(" ".join(tokens))


_ASKS_ADVICE = re.compile(
    r"what\s+should\s+i|should\s+i\b|how\s+should\s+i|what\s+would\s+you\s+(?:do|suggest|recommend)|"
    r"what\s+do\s+you\s+(?:suggest|recommend|advise|think\s+i\s+should)|"
    r"\b(?:any|some|your)\s+(?:advice|tips|suggestions|ideas|recommendations|pointers)|"
    r"(?:can|could|would)\s+you\s+(?:suggest|recommend|advise|give\s+me)|tell\s+me\s+what\s+to\s+do|"
    r"i(?:\s+need|\s+want|\s+would\s+like|'d\s+like|'d\s+love)\s+(?:some\s+)?(?:advice|ideas|suggestions|tips)|"
    r"just\s+tell\s+me|give\s+me\s+(?:\w+\s+)?(?:options|ideas)|tell\s+me\s+(?:what\s+is\s+)?the\s+best\s+way|"
    r"would\s+that\s+(?:sound|work|land|come\s+across)|"
    r"how\s+do\s+(?:other|most|good|experienced)\s+(?:managers|leaders|people)|what\s+do\s+other\s+(?:managers|leaders)")
_OFFERS = re.compile(r"(?:would\s+you\s+like|do\s+you\s+want|may\s+i|can\s+i|could\s+i|shall\s+i)\s+(?:me\s+to\s+)?"
                     r"(?:offer|share|suggest|give)|\b(?:an?\s+)?(?:idea|suggestion|thought|option)s?\s*\?|"
                     r"\bi\s+(?:can|could)\s+(?:offer|share|suggest)\b.*\bif\b|"
                     r"\bif\s+(?:it\s+would\s+help|you'd\s+find\s+it\s+useful),?\s+i\s+(?:can|could)\s+(?:offer|share|suggest)\b")
_YES = re.compile(r"^\W*(?:yes|yeah|yep|sure|please|go\s+ahead|ok|okay|that\s+would\s+help|i'd\s+like\s+that)\b")


def asked_for_advice(user: str, previous_reply: str = "") -> bool:
    """True when the person asked for advice, or said yes to the coach's offer of an idea."""
    u = user.lower().replace("’", "'")
    return bool(_ASKS_ADVICE.search(u) or (_OFFERS.search(previous_reply.lower()) and _YES.match(u)))


def advice_in(reply: str) -> list[str]:
    """The coach's own sentences that tell the person what to do (quoted openers excluded)."""
    sents = statements(reply) + [q for q in questions(reply) if any(p.search(q.lower()) for p in _ADVICE[4:5])]
    return [s for s in sents if is_advice(s)]


def unasked_advice_free(t: Transcript) -> Grade:
    """Share of coaching turns that give no advice the person did not ask for."""
    checked, bad, prev = 0, [], ""
    for e in t.exchanges:
        if e.coaching and not asked_for_advice(e.user, prev):
            checked += 1
            found = advice_in(e.turn.reply)
            if found:
                bad.append(found[0])
        prev = e.turn.reply
    return share(checked - len(bad), checked, "turns free of unasked advice", bad)


def talk_ratio(t: Transcript) -> Grade:
    """Coach words per client word across coaching turns; under 1 means the client talks more."""
    turns = t.coaching_exchanges
    coach = sum(len(words(e.turn.reply)) for e in turns)
    client = sum(len(words(e.user)) for e in turns)
    if not client:
        return not_applicable("the client said nothing")
    return Grade(score=coach / client, detail=f"coach {coach} words : client {client} words = {coach / client:.2f}")


def _same_question(a: str, b: str) -> bool:
    na, nb = normalize(a), normalize(b)
    shorter, longer = sorted((na, nb), key=len)
    if na == nb or (len(shorter.split()) >= 3 and f" {shorter} " in f" {longer} "):
        return True
    ca, cb = content_words(a), content_words(b)
    return min(len(ca), len(cb)) >= 2 and jaccard(ca, cb) >= 0.8


def no_repeated_question(t: Transcript) -> Grade:
    """Share of questions not asked before in the same session (exact or near-exact repeats count)."""
    seen: dict[str, list[str]] = {}
    total, repeats = 0, []
    for e in t.coaching_exchanges:
        earlier = seen.setdefault(e.turn.session, [])
        for q in questions(e.turn.reply):
            total += 1
            if any(_same_question(q, old) for old in earlier):
                repeats.append(q)
            earlier.append(q)
    return share(total - len(repeats), total, "questions not repeated", repeats)
