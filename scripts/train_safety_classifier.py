"""Train the safety classifier (multinomial logistic regression) and write agent/safety/data/safety_classifier.npz.

Deterministic: fixed data order, full-batch Adam from zeros, no randomness. `--cv` first reports grouped
cross-validation (each fold holds out one language of multi.yaml or one English author file) and picks the
decision cut-offs from the out-of-fold predictions; the blind set is never read here.

    python scripts/train_safety_classifier.py --cv      # cross-validate, choose cut-offs, then fit and save
    python scripts/train_safety_classifier.py           # fit and save with the cut-offs in CUTOFFS below
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy import sparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.safety import features as F  # noqa: E402
from agent.safety.grounds import names_ground  # noqa: E402
from agent.safety.training_data import LABELS, LANGS, Example, buried, fingerprint, load_examples  # noqa: E402

OUT = ROOT / "agent" / "safety" / "data" / "safety_classifier.npz"
# buried: 1,500 crisis and 1,500 ordinary long messages built from the set (the risk one sentence in a work update)
HYPER = {"dense_scale": 8.0, "word_scale": 1.0, "char_scale": 1.0, "l2": 1e-4, "steps": 300, "lr": 0.05,
         "balance": 0.5, "buried_crisis": 1500, "buried_ordinary": 1500}
VALIDATION = ROOT / "evals" / "safety" / "validation.yaml"
# Decision cut-offs: what --validate chose on validation round 2 and the coaching turns read out of fold (the
# first weights' 0.9 / 0.8 / 0.65 came from --cv, check_in raised by hand). The blind set never chooses them.
CUTOFFS = {"crisis": 0.9, "check_in": 0.7, "refer": 0.5}


EMB_CACHE = Path("/tmp/safety_e5_cache.npz")


def embed_all(texts: list[str]) -> np.ndarray:
    """E5 vectors for every text, cached per text by content (the encoder is deterministic)."""
    import hashlib

    keys = [hashlib.sha256(t.encode()).hexdigest()[:24] for t in texts]
    known: dict[str, np.ndarray] = {}
    if EMB_CACHE.exists():
        with np.load(EMB_CACHE) as z:
            if "keys" in z:
                known = dict(zip(z["keys"].tolist(), z["vecs"]))
    missing = sorted({k: t for k, t in zip(keys, texts) if k not in known}.items())
    if missing:
        vecs = F.encoder().embed([t for _, t in missing])
        known.update({k: v for (k, _), v in zip(missing, vecs)})
        np.savez(EMB_CACHE, keys=np.array(list(known)), vecs=np.stack(list(known.values())))
    return np.stack([known[k] for k in keys]).astype(np.float32)


def sparse_block(texts: list[str], hyper: dict[str, float]) -> sparse.csr_matrix:
    """Char and word n-grams in one CSR matrix: word buckets sit after the 2^HASH_BITS char buckets."""
    rows, cols, vals = [], [], []
    off = 1 << F.HASH_BITS
    for i, t in enumerate(texts):
        ci, cv, wi, wv = F.hashed_ngrams(t)
        rows += [i] * (len(ci) + len(wi))
        cols += ci + [off + j for j in wi]
        vals += [v * hyper["char_scale"] for v in cv] + [v * hyper["word_scale"] for v in wv]
    return sparse.csr_matrix((np.array(vals, np.float32), (rows, cols)), shape=(len(texts), 2 * off))


def fit(dense: np.ndarray, sp: sparse.csr_matrix, y: np.ndarray, hyper: dict[str, float],
        k: int = len(LABELS)) -> dict[str, np.ndarray]:
    """Class-balanced softmax regression, L2-penalised, full-batch Adam from zeros (deterministic)."""
    used = np.unique(sp.indices)  # only buckets seen in training get weights; the rest stay exactly zero
    spu = sp[:, used].tocsr()
    spt = spu.T.tocsr()
    counts = np.bincount(y, minlength=k).astype(np.float64)
    # square-root balancing: full balancing made the rare classes so cheap to predict that calm ordinary talk
    # read as crisis; none at all would drown the 180-message referral classes
    w_class = ((len(y) / (k * np.maximum(counts, 1))) ** hyper["balance"])[y]
    w_class = (w_class / w_class.sum()).astype(np.float32)[:, None]
    onehot = np.eye(k, dtype=np.float32)[y]
    params = [np.zeros((dense.shape[1], k), np.float32), np.zeros((len(used), k), np.float32),
              np.zeros(k, np.float32)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, l2 = hyper["lr"], hyper["l2"]
    for step in range(1, int(hyper["steps"]) + 1):
        z = dense @ params[0] + spu @ params[1] + params[2]
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        d = (p - onehot) * w_class
        grads = [dense.T @ d + l2 * params[0], np.asarray(spt @ d) + l2 * params[1], d.sum(axis=0)]
        for i, g in enumerate(grads):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            params[i] -= lr * (m[i] / (1 - 0.9 ** step)) / (np.sqrt(v[i] / (1 - 0.999 ** step)) + 1e-8)
    return {"w_dense": params[0], "w_sparse": params[1], "bias": params[2], "buckets": used.astype(np.int32)}


def predict(model: dict[str, np.ndarray], dense: np.ndarray, sp: sparse.csr_matrix) -> np.ndarray:
    full = np.zeros((sp.shape[1], len(LABELS)), np.float32)
    full[model["buckets"]] = model["w_sparse"]
    z = dense @ model["w_dense"] + sp @ full + model["bias"]
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def decide(p: np.ndarray, cut: dict[str, float]) -> np.ndarray:
    """Label indices after the cut-offs; -1 marks a check-in (gray zone)."""
    crisis = p[:, 0] + p[:, 1]
    refer = p[:, 2:8]
    best = refer.argmax(axis=1)
    out = np.full(len(p), LABELS.index("ordinary"))
    out = np.where(refer.max(axis=1) >= cut["refer"], best + 2, out)
    out = np.where(crisis >= cut["check_in"], np.where(out == LABELS.index("ordinary"), -1, out), out)
    return np.where(crisis >= cut["crisis"], np.where(p[:, 0] >= p[:, 1], 0, 1), out)


def report(y: np.ndarray, got: np.ndarray) -> dict[str, float]:
    """The issue's figures: crisis recall, false alarms and check-ins on ordinary, referral accuracy, per class."""
    ordinary = y == LABELS.index("ordinary")
    crisis = y <= 1
    referral = (y >= 2) & (y <= 5)
    out = {"crisis_recall": float(np.mean(got[crisis] <= 1) if crisis.any() else 0),
           "crisis_strict": float(np.mean((got[crisis] >= 0) & (got[crisis] <= 1))) if crisis.any() else 0.0,
           "crisis_reached": float(np.mean((got[crisis] <= 1) & (got[crisis] >= -1))),
           "false_alarm": float(np.mean((got[ordinary] >= 0) & (got[ordinary] != LABELS.index("ordinary")))),
           "check_in_on_ordinary": float(np.mean(got[ordinary] == -1)),
           "referral_accuracy": float(np.mean(got[referral] == y[referral])) if referral.any() else 0}
    for i, name in enumerate(LABELS):
        sel = y == i
        if sel.any():
            out[f"recall_{name}"] = float(np.mean(got[sel] == i))
    return out


def features(texts: list[str], hyper: dict[str, float]) -> tuple[np.ndarray, sparse.csr_matrix]:
    return embed_all(texts) * hyper["dense_scale"], sparse_block(texts, hyper)


def cross_validate(hyper: dict[str, float]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    ex = load_examples()
    texts = [e.text for e in ex]
    y = np.array([LABELS.index(e.label) for e in ex])
    groups = [e.group for e in ex]
    dense, sp = features(texts, hyper)
    oof = np.zeros((len(ex), len(LABELS)), np.float32)
    for g in sorted(set(groups)):
        test = np.array([x == g for x in groups])
        model = fit(dense[~test], sp[~test], y[~test], hyper)
        oof[test] = grounded(predict(model, dense[test], sp[test]), [t for t, h in zip(texts, test) if h])
    return oof, y, groups


def choose_cutoffs(oof: np.ndarray, y: np.ndarray, max_false_alarm: float = 0.05) -> dict[str, float]:
    """The cut-offs with the best out-of-fold crisis recall plus referral accuracy at no more than 5% false alarms.

    Grouped folds hold out a whole language or author file, so they overstate false alarms (the held-out dev
    fold alone takes away 546 hard negatives): 5% here is the budget, not the goal of 2%."""
    best, best_key = None, None
    grid = [(c, r, ci) for c in np.arange(0.15, 0.96, 0.05) for r in np.arange(0.5, 0.96, 0.05) for ci in (0.5, 0.7)]
    for c, r, ci in grid:
        cut = {"crisis": float(c), "check_in": float(c) * ci, "refer": float(r)}
        s = report(y, decide(oof, cut))
        key = (s["false_alarm"] <= max_false_alarm, s["check_in_on_ordinary"] <= 0.10,
               s["crisis_recall"] + s["referral_accuracy"])
        if best_key is None or key > best_key:
            best, best_key = cut, key
    return {k: round(v, 3) for k, v in best.items()}


def training_set(hyper: dict[str, float], ex: list[Example] | None = None) -> list[Example]:
    """The labelled messages (`ex`, else all) plus the buried-crisis long messages built from them."""
    ex = load_examples() if ex is None else ex
    return ex + buried(ex, int(hyper["buried_crisis"]), int(hyper["buried_ordinary"]))


def validate(hyper: dict[str, float]) -> tuple[dict[str, float], dict[str, object]]:
    """Choose the cut-offs on validation round 2 (never trained on) plus the coaching turns read out of fold.

    Why the coaching turns: most of what the coach reads is plain coaching talk, which the validation round has
    little of; a model fitted without them flagged about half of them. So the cut-offs must hold on those too."""
    import yaml

    cases = yaml.safe_load(VALIDATION.read_text(encoding="utf-8"))["cases"]
    vt = [c["text"] for c in cases]
    vy = np.array([LABELS.index(c["label"]) for c in cases])
    p = _fit_predict(training_set(hyper), vt, hyper)
    labelled = load_examples()
    rest = [e for e in labelled if e.group != "coaching"]
    coaching = [e.text for e in labelled if e.group == "coaching"]
    pc = _fit_predict(training_set(hyper, rest), coaching, hyper)
    ordinary = np.full(len(coaching), LABELS.index("ordinary"))
    cut = choose_on_validation(p, vy, pc)
    by_lang = {lang: report(vy[m], decide(p[m], cut))["crisis_strict"]
               for lang in LANGS if (m := np.array([c.get("lang") == lang for c in cases])).any()}
    return cut, {"validation": report(vy, decide(p, cut)), "crisis_strict_by_lang": by_lang,
                 "coaching_turns_out_of_fold": report(ordinary, decide(pc, cut)),
                 "validation_at_shipped_cutoffs": report(vy, decide(p, CUTOFFS))}


def _fit_predict(train: list[Example], texts: list[str], hyper: dict[str, float]) -> np.ndarray:
    """Probabilities for `texts` from a model fitted on `train`, gated as the detector gates them."""
    y = np.array([LABELS.index(e.label) for e in train])
    dense, sp = features([e.text for e in train] + texts, hyper)
    n = len(train)
    return grounded(predict(fit(dense[:n], sp[:n], y, hyper), dense[n:], sp[n:]), texts)


def grounded(p: np.ndarray, texts: list[str]) -> np.ndarray:
    """No discrimination reading for a message that names no protected ground (what Detector.predict does)."""
    keep = np.array([names_ground(t) for t in texts])
    out = p.copy()
    out[~keep, LABELS.index("discrimination")] = 0.0
    return out


def choose_on_validation(p: np.ndarray, y: np.ndarray, pc: np.ndarray) -> dict[str, float]:
    """The cut-offs with the most crisis replies (then check-ins, then referral accuracy) on validation round 2,
    within the goal's 2% false alarms and 5% check-ins on its ordinary talk, and on the coaching turns read out
    of fold (`pc`) within 2% crisis replies, 5% other flags and 5% check-ins."""
    best, best_key = None, None
    for c in np.arange(0.5, 0.96, 0.025):
        for ci in np.arange(0.4, float(c), 0.05):
            for r in np.arange(0.5, 0.91, 0.05):
                cut = {"crisis": float(c), "check_in": float(ci), "refer": float(r)}
                s, got = report(y, decide(p, cut)), decide(pc, cut)
                crisis_on_coaching = float(np.mean((got >= 0) & (got <= 1)))
                within = (s["false_alarm"] <= 0.02 and s["check_in_on_ordinary"] <= 0.05 and crisis_on_coaching <= 0.02
                          and float(np.mean((got >= 2) & (got != LABELS.index("ordinary")))) <= 0.05
                          and float(np.mean(got == -1)) <= 0.05)
                key = (within, round(s["crisis_strict"] + 0.5 * s["crisis_recall"] + 0.5 * s["referral_accuracy"], 4),
                       -s["false_alarm"])
                if best_key is None or key > best_key:
                    best, best_key = cut, key
    return {k: round(v, 3) for k, v in best.items()}


def fit_and_save(hyper: dict[str, float], cut: dict[str, float], out: Path = OUT) -> Path:
    ex = training_set(hyper)
    texts = [e.text for e in ex]
    y = np.array([LABELS.index(e.label) for e in ex])
    dense, sp = features(texts, hyper)
    model = fit(dense, sp, y, hyper)
    # language head: same features, only messages whose file names the language; picks the helpline line
    known = np.array([e.lang in LANGS for e in ex])
    ylang = np.array([LANGS.index(e.lang) if e.lang in LANGS else 0 for e in ex])
    lang = fit_lang(dense[known], ylang[known], hyper)
    meta = {"labels": LABELS, "langs": LANGS, "hyper": hyper, "cutoffs": cut, "hash_bits": F.HASH_BITS,
            "char_sizes": F.CHAR_SIZES, "encoder": F.ENCODER_NAME, "fingerprint": fingerprint(),
            "n_train": len(ex), "n_labelled": sum(e.group != "buried" for e in ex)}
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, meta=json.dumps(meta), w_dense=model["w_dense"].astype(np.float16),
                        w_sparse=model["w_sparse"].astype(np.float16), bias=model["bias"],
                        buckets=model["buckets"], lang_w=lang["w_dense"].astype(np.float16), lang_b=lang["bias"])
    return out


def fit_lang(dense: np.ndarray, y: np.ndarray, hyper: dict[str, float]) -> dict[str, np.ndarray]:
    """Language from the E5 vector alone (a small head): enough to pick a national helpline line."""
    return fit(dense, sparse.csr_matrix((len(y), 1), dtype=np.float32), y, hyper, k=len(LANGS))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cv", action="store_true", help="cross-validate and choose the cut-offs first")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--validate", action="store_true", help="choose the cut-offs on validation round 2, then fit")
    ap.add_argument("--out", type=Path, default=OUT, help="where to write the weights")
    args = ap.parse_args()
    cut = dict(CUTOFFS)
    if args.cv:
        t = time.perf_counter()
        oof, y, groups = cross_validate(HYPER)
        np.savez("/tmp/safety_oof.npz", oof=oof, y=y)
        chosen = choose_cutoffs(oof, y)
        out = {"hyper": HYPER, "chosen_cutoffs": chosen, "cv_all": report(y, decide(oof, chosen)),
               "cv_by_group": {g: report(y[m], decide(oof[m], chosen))
                               for g in sorted(set(groups)) if (m := np.array([x == g for x in groups])).any()},
               "seconds": round(time.perf_counter() - t, 1)}
        print(json.dumps(out, indent=1))
    if args.validate:
        cut, figures = validate(HYPER)  # and these are the cut-offs saved (copy them into CUTOFFS)
        print(json.dumps({"chosen_cutoffs": cut, **figures}, indent=1))
    if not args.no_save:
        print(fit_and_save(HYPER, cut, args.out))


if __name__ == "__main__":
    main()
