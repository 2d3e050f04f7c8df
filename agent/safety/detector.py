"""The trained safety classifier: nine classes from E5 vectors and hashed n-grams, inference in plain numpy."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.core.once import LoadOnce
from agent.safety import features as F

log = logging.getLogger(__name__)
CRISIS = ("crisis_self", "crisis_others")
REFERRALS = ("harassment", "discrimination", "legal", "medical", "injection", "off_topic")


@dataclass(frozen=True)
class Prediction:
    """Class probabilities for one message, the decision the cut-offs give, and the message's likely language."""

    probs: dict[str, float]
    label: str  # one of the nine classes, or "check_in" (crisis probability in the gray zone)
    lang: str

    @property
    def crisis(self) -> float:
        return self.probs["crisis_self"] + self.probs["crisis_others"]

    @property
    def who(self) -> str:
        """Whose safety the crisis reading is about: "self" or "others"."""
        return "self" if self.probs["crisis_self"] >= self.probs["crisis_others"] else "others"


def weights_path() -> Path:
    from agent.core.resources import safety_data_dir

    return safety_data_dir() / "safety_classifier.npz"


class Detector:
    """The shipped weights (agent/safety/data/safety_classifier.npz) and the encoder that feeds them."""

    def __init__(self, path: Path | None = None, encoder: Any = None) -> None:
        import numpy as np

        with np.load(path or weights_path()) as z:
            self.meta = json.loads(str(z["meta"]))
            self.w_dense = z["w_dense"].astype(np.float32)
            self.w_sparse = z["w_sparse"].astype(np.float32)
            self.bias = z["bias"].astype(np.float32)
            self.buckets = z["buckets"]
            self.lang_w = z["lang_w"].astype(np.float32)
            self.lang_b = z["lang_b"].astype(np.float32)
        if self.meta["hash_bits"] != F.HASH_BITS or self.meta["encoder"] != F.ENCODER_NAME:
            raise ValueError("safety classifier weights were trained on other features; run `make safety-model`")
        self.labels: list[str] = list(self.meta["labels"])
        self.langs: list[str] = list(self.meta["langs"])
        self.cutoffs: dict[str, float] = dict(self.meta["cutoffs"])
        self.hyper: dict[str, float] = dict(self.meta["hyper"])
        self.encoder = encoder or F.encoder()

    def scores(self, texts: list[str]) -> tuple[Any, Any]:
        """(class probabilities, language probabilities), one row per text."""
        import numpy as np

        dense = self.encoder.embed(texts) * self.hyper["dense_scale"]
        z = dense @ self.w_dense + self.bias
        off = 1 << F.HASH_BITS
        for row, text in enumerate(texts):
            ci, cv, wi, wv = F.hashed_ngrams(text)
            ids = np.array(ci + [off + j for j in wi], dtype=np.int64)
            vals = np.array([v * self.hyper["char_scale"] for v in cv] + [v * self.hyper["word_scale"] for v in wv],
                            dtype=np.float32)
            pos = np.searchsorted(self.buckets, ids)
            pos = np.minimum(pos, len(self.buckets) - 1)
            seen = self.buckets[pos] == ids  # an n-gram never seen in training has no weight
            z[row] += vals[seen] @ self.w_sparse[pos[seen]]
        return _softmax(z), _softmax(dense @ self.lang_w + self.lang_b)

    def predict(self, text: str) -> Prediction:
        """The class probabilities and decision for one message."""
        probs, langs = self.scores([text])
        p = {name: float(v) for name, v in zip(self.labels, probs[0])}
        gated = grounded(p, text, self.cutoffs["refer"])
        return Prediction(p, decide(gated, self.cutoffs), self.langs[int(langs[0].argmax())])


def grounded(p: dict[str, float], text: str, below: float = 0.0) -> dict[str, float]:
    """`p` with no discrimination reading unless the message names a protected ground (agent/safety/grounds.py).

    A reading under `below` (the referral cut-off) cannot refer anyway, so the lexicon is not consulted for it."""
    reading = p.get("discrimination", 0.0)
    if reading == 0.0 or reading < below:
        return p
    from agent.safety.grounds import names_ground

    return p if names_ground(text) else {**p, "discrimination": 0.0}


def decide(p: dict[str, float], cut: dict[str, float]) -> str:
    """Crisis above its cut-off wins; then the likeliest referral class above its cut-off; then the check-in tier."""
    crisis = p["crisis_self"] + p["crisis_others"]
    if crisis >= cut["crisis"]:
        return "crisis_self" if p["crisis_self"] >= p["crisis_others"] else "crisis_others"
    best = max(REFERRALS, key=lambda c: p[c])
    if p[best] >= cut["refer"]:
        return best
    return "check_in" if crisis >= cut["check_in"] else "ordinary"


def _softmax(z: Any) -> Any:
    import numpy as np

    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _loader() -> LoadOnce[Detector]:
    return LoadOnce(lambda: Detector(), "safety classifier unavailable (%s); using keyword rules and MiniLM banks",
                    log)


_STATE = _loader()


def detector() -> Detector | None:
    """The loaded detector, or None when its weights or encoder cannot be loaded (already logged)."""
    return _STATE.get()


def warm() -> None:
    """Load the weights and the E5 encoder now (the CLI calls this in a thread, beside the other model loads)."""
    d = detector()
    if d is not None:
        d.encoder.embed(["warm up"])


def classify(message: str) -> Prediction | None:
    """The classifier's reading of a message, or None when it is unavailable or fails on this message."""
    d = detector()
    if d is None:
        return None
    try:
        return d.predict(message)
    except Exception as exc:  # noqa: BLE001 - a runtime fault must not take the keyword rules down with it
        log.warning("safety classifier failed on a message (%s); keyword rules only", type(exc).__name__)
        return None


def status() -> str:
    """"on", "off (<why>)" or "not loaded", without loading anything."""
    return _STATE.status()


def reset() -> None:
    """Forget the loaded detector or the remembered failure (tests)."""
    global _STATE
    _STATE = _loader()
