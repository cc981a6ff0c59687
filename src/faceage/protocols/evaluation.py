"""Scoring a protocol with one model's embeddings, insightface's way, with a guard.

Every pair of the protocol is scored or counted as an error: a pair is
unscored when a name matched no file or an image got no vector (the
no-face fallback, ``embeddings.no_face_fallback``, makes that rare). The
headline accuracy follows insightface's ``verification.py`` (see
:func:`faceage.analysis.verification.insightface_accuracy`): per fold, the
threshold that maximises accuracy on the other folds' scored pairs is
applied to the fold, and **every** pair of the fold counts in its
denominator, an unscored pair as an error - as a published figure covers
all pairs.

The accuracy is never computed from a depleted set: when the protocol or
any fold has no scored pair of one class, or more than
:data:`MAX_UNSCORED_SHARE` of its pairs are unscored, the accuracy is empty
and ``accuracy_note`` says why (the workflow also prints a warning).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from faceage.analysis.accuracy import insightface_accuracy
from faceage.analysis.bootstrap import roc_key
from faceage.analysis.roc import FAR_LEVELS, point_metrics
from faceage.contracts.embeddings import FALLBACK_ROUTES

MAX_UNSCORED_SHARE = 0.01
CONVENTION = (
    "insightface verification.py: 10 folds, threshold maximising accuracy on the other 9 folds "
    "over arange(0, 4, 0.01) of squared L2 distance (= 2 - 2 cosine); every pair counts, "
    "an unscored pair as an error; accuracy_std is numpy.std (ddof=0) of the fold accuracies"
)


def score_protocol(pairs: pd.DataFrame, emb: dict[str, np.ndarray]) -> pd.DataFrame:
    """The protocol's pairs (with ``id_a``/``id_b``), ``similarity`` and ``route``.

    ``similarity`` is NaN for an unscored pair.

    ``route`` is the less direct of its two images' routes: ``fallback_crop`` when
    either image was embedded from the unaligned centre crop (the no-face fallback's
    last resort), else ``fallback_aligned`` when either came from the model's own
    alignment on a guessed box, ``aligned`` when both were taken as aligned crops,
    else ``detected`` (empty for unscored pairs).
    """
    from faceage.scores import cosine_similarity_pairs, normalise

    index = pd.Index(np.asarray(emb["image_id"], dtype=str))
    ra = index.get_indexer(pairs["id_a"].astype(object).fillna(""))
    rb = index.get_indexer(pairs["id_b"].astype(object).fillna(""))
    sim = cosine_similarity_pairs(normalise(emb["vectors"]), ra, rb).astype(np.float64)
    route = np.asarray(emb["route"], dtype=object)
    rta = np.where(ra >= 0, route[np.maximum(ra, 0)] if len(route) else "", "")
    rtb = np.where(rb >= 0, route[np.maximum(rb, 0)] if len(route) else "", "")
    scored = np.isfinite(sim)
    either = [(rta == r) | (rtb == r) for r in ("fallback_crop", "fallback_aligned")]
    how = np.select(
        either + [(rta == "aligned") & (rtb == "aligned")],
        ["fallback_crop", "fallback_aligned", "aligned"],
        "detected",
    )
    out = pairs.copy()
    out["similarity"] = sim
    out["route"] = pd.array(np.where(scored, how, ""), dtype="string")
    return out


def _guard(scored: pd.DataFrame) -> str:
    """Why no accuracy may be reported for these pairs ('' when it may)."""
    ok = scored["similarity"].notna().to_numpy()
    g = scored["genuine"].to_numpy(dtype=int) == 1
    folds = scored["fold"].to_numpy()
    reasons = []
    if not (ok & g).any() or not (ok & ~g).any():
        reasons.append(f"no scored {'genuine' if not (ok & g).any() else 'impostor'} pair")
    share = 1 - ok.mean() if len(ok) else 1.0
    if share > MAX_UNSCORED_SHARE:
        reasons.append(
            f"{(~ok).sum()} of {len(ok)} pairs unscored ({share:.1%} > {MAX_UNSCORED_SHARE:.0%})"
        )
    for f in sorted(set(folds.tolist())):
        m = folds == f
        if not (m & ok & g).any() or not (m & ok & ~g).any():
            reasons.append(
                f"fold {f} has no scored {'genuine' if not (m & ok & g).any() else 'impostor'} pair"
            )
        elif 1 - ok[m].mean() > MAX_UNSCORED_SHARE:
            reasons.append(f"fold {f}: {(m & ~ok).sum()} of {m.sum()} pairs unscored")
    return "; ".join(reasons)


def evaluate_protocol(
    pairs: pd.DataFrame, emb: dict[str, np.ndarray], fmr_levels=FAR_LEVELS
) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """(per-fold table, summary, scored pairs) of one protocol with one model's embeddings."""
    scored = score_protocol(pairs, emb)
    ok = scored["similarity"].notna().to_numpy()
    s = scored["similarity"].to_numpy()
    g = scored["genuine"].to_numpy(dtype=int)
    f = scored["fold"].to_numpy()
    res = insightface_accuracy(s[ok], g[ok], f[ok])
    used = sorted(set(f[ok].tolist()))
    fold_acc = (
        dict(zip(used, res["fold_accuracy"], strict=False)) if len(used) == res["acc_folds"] else {}
    )
    fold_thr = (
        dict(zip(used, res["fold_threshold"], strict=False))
        if len(used) == res["acc_folds"]
        else {}
    )
    rows, acc_all = [], []
    for k in sorted(set(f.tolist())):
        m = f == k
        n_all, n_ok = int(m.sum()), int((m & ok).sum())
        a = fold_acc.get(k, np.nan)
        a_all = (
            a * n_ok / n_all if n_all and np.isfinite(a) else np.nan
        )  # unscored pairs are errors
        acc_all.append(a_all)
        rows.append(
            {
                "fold": int(k),
                "n_pairs": n_all,
                "n_scored": n_ok,
                "n_genuine": int((m & (g == 1)).sum()),
                "threshold": fold_thr.get(k, np.nan),
                "accuracy": a_all,
                "accuracy_scored_pairs": a,
            }
        )
    per_fold = pd.DataFrame(rows)
    note = _guard(scored)
    acc = np.asarray(acc_all, dtype=float)
    valid = not note and len(acc) and np.isfinite(acc).all()
    summary = {
        "n_pairs": int(len(scored)),
        "n_genuine": int((g == 1).sum()),
        "n_impostor": int((g == 0).sum()),
        "n_scored": int(ok.sum()),
        "n_unscored": int((~ok).sum()),
        "n_fallback_pairs": int(scored["route"].isin(FALLBACK_ROUTES).sum()),
        "n_fallback_crop_pairs": int((scored["route"] == "fallback_crop").sum()),
        "n_folds": int(len(acc)),
        "accuracy": float(acc.mean()) if valid else np.nan,
        "accuracy_std": float(acc.std()) if valid else np.nan,
        "accuracy_note": note,
    }
    pm = point_metrics(g[ok], s[ok], fmr_levels)
    summary.update({k: pm[k] for k in ["auc", "eer"] + [roc_key(x) for x in fmr_levels]})
    summary["notes"] = pm.get("notes", "")
    return per_fold, summary, scored


def benchmarks_table(
    summaries: list[pd.DataFrame],
    published: dict[str, dict] | None = None,
    benchmarks: dict[str, str] | None = None,
    models: dict[str, dict] | None = None,
) -> pd.DataFrame:
    """One row per model x protocol: the headline figures, counts and the published figure.

    ``published`` (protocol name -> model -> accuracy) is what the configuration states and
    wins; otherwise the figure comes from :data:`faceage.protocols.published.PUBLISHED`
    when the protocol is a known benchmark (``benchmarks``: protocol name -> benchmark) and
    the model names a published recogniser (``models``: model -> ``published_id`` and its
    test-time ``settings``). ``published_settings`` is the published procedure;
    ``published_note`` says where ours differs.
    """
    from faceage.protocols.published import describe, lookup

    cols = [
        "model",
        "protocol",
        "format",
        "accuracy",
        "accuracy_std",
        "accuracy_note",
        "auc",
        roc_key(1e-3),
        "n_pairs",
        "n_genuine",
        "n_impostor",
        "n_unscored",
        "n_fallback_pairs",
        "n_fallback_crop_pairs",
        "n_aliases",
        "n_not_found",
        "published_accuracy",
        "difference",
        "published_settings",
        "published_note",
        "published_source",
    ]
    if not summaries:
        return pd.DataFrame(columns=cols)
    t = pd.concat(summaries, ignore_index=True)
    published, benchmarks, models = published or {}, benchmarks or {}, models or {}
    figures = []
    for m, p in zip(t["model"], t["protocol"], strict=True):
        stated = published.get(p, {}).get(m)
        if stated is not None:
            figures.append((stated, "", "", "the configuration (protocols[].published)"))
            continue
        info = models.get(m, {})
        ours = info.get("settings", {})
        row, exact = lookup(info.get("published_id"), benchmarks.get(p, ""), ours)
        if row is None:
            figures.append((np.nan, "", "", ""))
            continue
        differs = {k: ours.get(k, v) for k, v in row.settings.items()}
        note = "" if exact else f"published with {describe(row.settings)}, ours {describe(differs)}"
        figures.append((row.accuracy, describe(row.settings), note, row.source))
    (
        t["published_accuracy"],
        t["published_settings"],
        t["published_note"],
        t["published_source"],
    ) = zip(*figures, strict=True)
    t["published_accuracy"] = pd.to_numeric(t["published_accuracy"], errors="coerce")
    # the summaries come through the contract's reader: figures it does not know are text
    t["accuracy"] = pd.to_numeric(t["accuracy"], errors="coerce")
    t["difference"] = t["accuracy"] - t["published_accuracy"]
    for c in cols:
        if c not in t:
            t[c] = np.nan
    return t[cols].sort_values(["protocol", "model"], kind="stable").reset_index(drop=True)
