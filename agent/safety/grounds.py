"""Whether a message names a protected ground (sex, age, race, religion, disability, ...): discrimination needs one."""

from __future__ import annotations

import re
from functools import lru_cache

# Why a lexicon beside the classifier: unfair treatment is discrimination only when it is *because of* a protected
# ground, and a classifier trained on exclusion stories learns the exclusion ("they stopped inviting me") as well.
# So a discrimination referral needs the ground named. This list only filters what the classifier already called
# discrimination, so it errs on the broad side: a stray cue costs nothing, a missing one loses a referral.
# Stems match a word's start; each line is one ground in the eight languages the detector reads.
_STEMS = (
    # sex, gender, pregnancy, family
    "wom[ae]n", "female", "girl", "gender", "sexis", "sex\\b", "pregnan", "maternity", "paternity", "mother",
    "mum\\b", "mums\\b", "mummy", "mom\\b", "moms\\b", "dads?\\b", "kids\\b", "child", "parental", "ivf\\b",
    "fertility", "menopaus", "boyfriend", "girlfriend", "novi[oa]\\b", "copain", "copine", "freund", "vriend\\b",
    "vriendin", "chłopak", "dziewczyn", "shaadi", "bab(y|ies)\\b", "bebé", "bebe\\b", "enfant", "kinder",
    "dzieci", "bachch", "transition", "\\bmen\\b", "male\\b", "\\bman\\b", "guys?\\b", "dude", "lads\\b",
    "hombre", "homem", "homens", "männer", "mann\\b", "mannen", "faceci", "facet", "mard\\b",
    "trans\\b", "transgender", "non-?binary", "pronoun",
    "mujer", "embaraz", "maternidad", "género", "sexo", "femme", "enceinte", "grossesse", "maternité", "genre\\b",
    "frau", "schwanger", "mutterschutz", "elternzeit", "geschlecht", "mulher", "grávida", "gravidez", "gênero",
    "vrouw", "zwanger", "moederschap", "kobiet", "ciąż", "macierzyń", "płe[ćc]", "aurat", "mahila", "ladki",
    # sexual orientation
    "gay\\b", "lesbi", "queer", "lgbt", "bisexual", "homosex", "husband", "wife\\b", "same-sex", "orientation",
    "schwul", "homo\\b", "gej", "lésbi", "partner",
    # age
    "age\\b", "aged\\b", "ageis", "older", "too old", "old for", "years old", "young", "twenties", "thirties",
    "fifties", "sixties", "boomer", "retire", "fresh energy", "digital native", "edad", "mayor(es)?\\b", "joven",
    "jóvenes", "âge", "vieux", "vieille", "jeune", "alter\\b", "älter", "jünger", "jung", "zu alt", "idade",
    "velh[oa]", "jove[mn]", "leeftijd", "jong", "wiek", "starsz", "młod", "umr", "budh", "buddh[ae]\\b",
    "[4-7]\\d\\b",
    # race, colour, ethnicity, nationality, accent, caste
    "rac[ei]", "black\\b", "white\\b", "brown\\b", "asian", "latin[oax]", "hispanic", "arab", "indian",
    "african", "ethnic", "colou?r\\b", "skin", "accent", "nationalit", "national origin", "foreign", "immigra",
    "migra", "visa\\b", "where i'?m from", "my country", "my name", "surname", "caste", "dalit", "polish",
    "chinese", "mexican", "nigerian", "pakistan", "romanian", "filipin", "brazilian", "turkish", "muslim",
    "roma\\b", "gypsy", "traveller", "you people", "ur people", "y(ou)?r people", "your kind",
    "people like me", "negr[oa]", "gitan",
    "extranjer", "acento", "origen", "noir", "arabe", "étranger", "immigré", "origine", "schwarz", "ausländ",
    "herkunft", "akzent", "rasse", "raça", "estrangeir", "sotaque", "origem", "zwart", "buitenland", "allochto",
    "afkomst", "rasa\\b", "rasis", "czarn", "cudzoziem", "akcent", "pochodzen", "jaat", "jati", "kaal[ai]",
    "rang\\b", "names?\\b", "prénom", "noms?\\b", "nombres?\\b", "namen\\b", "nazwisk", "imi[eę]\\b",
    "naam\\b", "türk", "marokk", "ukrai", "pools", "polac", "polsk", "obcokraj", "ausland", "eastern europe",
    "deutsch", "north east", "minorit", "divers", "demographic", "quota", "ghetto", "council estate", "class\\b",
    "look like a", "face\\b", "gesicht", "facial", "height", "5 ?ft", "tum log", "aap log", "in logon",
    # religion
    "religi", "islam", "jew", "christian", "hindu", "sikh", "buddhis", "catholic", "hijab", "veil", "headscarf",
    "turban", "kippa", "yarmulke", "pray", "eid\\b", "ramadan", "diwali", "sabbath", "shabbat", "church",
    "mosque", "synagog", "temple", "halal", "kosher", "fasting", "musulm", "velo\\b", "voile", "foulard",
    "kopftuch", "muçulm", "véu", "geloof", "moslim", "hoofddoek", "muzułm", "chust", "dharm", "namaz", "roza\\b",
    "culto\\b", "culte\\b", "jehovah", "bindi", "bangle", "crosse?s?\\b", "kippur", "yom\\b", "holy day",
    # disability, health condition
    "disab", "wheelchair", "deaf", "blind\\b", "autis", "adhd", "dyslex", "neurodiver", "chronic", "illness",
    "cancer", "diabet", "epilep", "accommodat", "accessib", "step-free", "mental health", "depress", "sick leave",
    "discapacid", "silla de ruedas", "handicap", "fauteuil", "behinder", "rollstuhl", "deficiên",
    "cadeira de rodas",
    "beperking", "rolstoel", "niepełnospraw", "wózk", "viklang", "apahij", "hiv\\b",
    "stammer", "stutter", "hearing", "surd[oa]", "sourd", "malentend", "gehörlos", "głuch", "doof", "autyz",
    "service dog", "guide dog", "ramp\\b", "schwerbehindert", "sight", "birth", "19[4-8]\\d", "pięćdziesiąt",
    "sześćdziesiąt", "set in (her|his|their) ways", "pension",
    # naming the wrong itself
    "discrimin", "diskrimin", "dyskrymin", "bhed-?bhav", "because of who i am",
)


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(_STEMS) + ")", re.IGNORECASE)


def names_ground(text: str) -> bool:
    """True when the message names a protected ground, or discrimination itself, in any of the eight languages."""
    return _pattern().search(text) is not None
