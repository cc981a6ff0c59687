"""File-level entry points: one function per workflow step.

Each reads its inputs from paths, calls the pure logic of the package, and
writes its outputs atomically through :mod:`faceage.contracts`. The
workflow's scripts call exactly one of these; tests call them too.
"""

from __future__ import annotations

import logging

import pandas as pd

from faceage import contracts as c

log = logging.getLogger(__name__)


def demo_dataset(out_dir: str, persons: int, images_per_person: int, size: int, seed: int) -> None:
    from faceage.demo import make_demo

    paths = make_demo(
        out_dir, persons=persons, images_per_person=images_per_person, size=size, seed=seed
    )
    log.info("wrote %d synthetic images to %s", len(paths), out_dir)


def manifest(fmt: str, root: str, n_shards: int, out_manifest: str, out_rejects: str) -> None:
    from faceage.datasets import build_manifest

    adapter = "folders" if fmt == "demo" else fmt
    man, rejects = build_manifest(adapter, root, n_shards)
    c.write_manifest(man, out_manifest)
    c.write_table(rejects, out_rejects, c.REJECT_COLUMNS)
    log.info(
        "%d images of %d persons; %d files rejected",
        len(man),
        man["person"].nunique(),
        len(rejects),
    )
    for reason, n in rejects["reason"].str.split(":").str[0].value_counts().items():
        log.info("  rejected %d: %s", n, reason)


def inspect_shard(
    manifest_path: str, shard: int, detector: str, upsample: int, max_side: int, out: str
) -> None:
    from faceage.clean import INSPECT_COLUMNS, inspect_images

    man = c.own_content(c.read_manifest(manifest_path))
    rows = man[man["shard"] == shard]
    det = None
    if detector != "none":
        from faceage.models.dlib_resnet import DlibDetector

        det = DlibDetector(detector, upsample)
    table = inspect_images(rows, det, max_side)
    c.write_table(table, out, INSPECT_COLUMNS)
    log.info(
        "shard %d: %d images inspected, %d not decodable",
        shard,
        len(table),
        (table["status"] != "ok").sum(),
    )


def pairs(
    clean_manifest: str,
    bins: list[int],
    mode: str,
    ratio: float,
    seed: int,
    out_pairs: str,
    out_summary: str,
    folds: int | None = None,
) -> None:
    from faceage.pairs import make_pairs, pair_summary

    clean = c.require_images(c.read_table(clean_manifest), clean_manifest)
    p = make_pairs(clean, bins=bins, mode=mode, ratio=ratio, seed=seed, folds=folds)
    c.write_pairs(p, out_pairs)
    c.write_table(pair_summary(p), out_summary)
    log.info(
        "%d genuine and %d impostor pairs", (p["genuine"] == 1).sum(), (p["genuine"] == 0).sum()
    )


def merge_embeddings(shards: list[str], out: str, clean_manifest: str | None = None) -> None:
    aliases = {}
    if clean_manifest is not None:
        man = c.read_table(clean_manifest)
        if "alias_of" in man:
            has = man["alias_of"].notna().to_numpy()
            aliases = dict(
                zip(
                    man.loc[has, "image_id"].astype(str),
                    man.loc[has, "alias_of"].astype(str),
                    strict=True,
                )
            )
    merged = c.merge_embeddings(shards, out, aliases)
    log.info(
        "merged %d images from %d shards (%d aliases share a vector)",
        len(merged["image_id"]),
        len(shards),
        len(aliases),
    )


def export_embeddings(npz: str, out_csv: str, out_faces: str) -> None:
    emb = c.read_embeddings(npz)
    c.write_vectors_csv(emb, out_csv)
    c.write_table(c.embeddings_table(emb), out_faces)


def score(pairs_path: str, npz: str, out: str) -> None:
    from faceage.scores import score_pairs

    p = c.read_pairs(pairs_path)
    emb = c.read_embeddings(npz)
    s = score_pairs(p, emb["image_id"], emb["vectors"])
    c.write_table(s, out, c.SCORE_COLUMNS)
    log.info(
        "%d pairs scored, %d without a score",
        s["similarity"].notna().sum(),
        s["similarity"].isna().sum(),
    )


def read_scores(paths: dict[str, str]) -> dict[str, pd.DataFrame]:
    return {model: c.read_table(p, c.SCORE_COLUMNS) for model, p in paths.items()}


def similarity_tables(
    score_paths: dict[str, str], bins: list[int], out_within: str, out_between: str, out_gap: str
) -> None:
    from faceage.analysis.similarity import between_ranges_table, by_gap_table, within_range_table
    from faceage.pairs import range_labels

    scores = read_scores(score_paths)
    ranges = range_labels(bins)
    for table, path in (
        (within_range_table(scores, ranges), out_within),
        (between_ranges_table(scores, ranges), out_between),
        (by_gap_table(scores), out_gap),
    ):
        with c.atomic_path(path) as tmp:
            table.to_csv(tmp, index=False, float_format="%.6g", lineterminator="\n")


def plot_similarity(
    score_paths: dict[str, str], by_gap_csv: str, min_pairs: int, out_gap: str, out_dist: str
) -> None:
    from faceage import plots

    plots.similarity_by_gap(pd.read_csv(by_gap_csv), out_gap, min_pairs)
    plots.similarity_distributions(read_scores(score_paths), out_dist)


def projections(
    npz: str,
    clean_manifest: str,
    model: str,
    bins: list[int],
    settings: dict,
    out_table: str,
    out_plot: str,
) -> None:
    from faceage import plots
    from faceage.analysis.projections import projections as compute
    from faceage.pairs import range_labels

    proj = compute(
        c.read_embeddings(npz),
        c.read_table(clean_manifest),
        bins,
        seed=settings["seed"],
        balanced_per_range=settings["balanced_per_range"],
        tsne_max_images=settings["tsne_max_images"],
        persons=settings["persons_to_plot"],
        perplexity=settings["tsne_perplexity"],
    )
    c.write_table(proj, out_table)
    plots.projection_grid(proj, model, range_labels(bins), out_plot)


# --- protocol runs (dataset_format: protocol) ---------------------------------


def protocol_manifest(
    protocols: list[dict],
    n_shards: int,
    out_manifest: str,
    out_rejects: str,
    out_pairs: dict[str, str],
) -> None:
    """The manifest of every image the protocols name, their rejects, and each protocol's pairs."""
    from faceage.datasets import finish_manifest
    from faceage.protocols.dataset import protocol_manifest as build
    from faceage.protocols.dataset import protocols_from_config

    man, rejects, tables = build(protocols_from_config(protocols))
    man = finish_manifest(man, n_shards)
    c.write_manifest(man, out_manifest)
    c.write_table(rejects, out_rejects, c.REJECT_COLUMNS)
    for name, table in tables.items():
        c.write_table(table, out_pairs[name])
        log.info(
            "protocol %s: %d pairs over %d names, %d names not found",
            name,
            len(table),
            len(set(table["image_a"]) | set(table["image_b"])),
            int(table[["id_a", "id_b"]].isna().any(axis=1).sum()),
        )
    log.info(
        "%d images (%d aliases of byte-identical files) in %d shards",
        len(man),
        int(man["alias_of"].notna().sum()),
        n_shards,
    )


def protocol_evaluation(
    pairs: str,
    embeddings: str,
    clean_manifest: str,
    name: str,
    fmt: str,
    model: str,
    out_summary: str,
    out_folds: str,
    out_pairs: str,
) -> dict:
    """One model on one protocol: summary, per-fold table and scored pairs; a warning when depleted."""
    from faceage.protocols.evaluation import CONVENTION, evaluate_protocol

    table = c.read_table(pairs)
    per_fold, summary, scored = evaluate_protocol(table, c.read_embeddings(embeddings))
    man = c.read_table(clean_manifest)
    named = set(table["id_a"].dropna()) | set(table["id_b"].dropna())
    aliased = (
        man["image_id"].isin(named) & man.get("alias_of", pd.Series(pd.NA, index=man.index)).notna()
    )
    not_found = set(table.loc[table["id_a"].isna(), "image_a"]) | set(
        table.loc[table["id_b"].isna(), "image_b"]
    )
    summary = {
        "protocol": name,
        "format": fmt,
        "model": model,
        **summary,
        "n_aliases": int(aliased.sum()),
        "n_not_found": len(not_found),
        "convention": CONVENTION,
    }
    per_fold.insert(0, "model", model)
    per_fold.insert(0, "protocol", name)
    c.write_table(pd.DataFrame([summary]), out_summary)
    c.write_table(per_fold, out_folds)
    c.write_table(scored, out_pairs)
    if summary["accuracy_note"]:
        log.warning(
            "WARNING protocol %s, model %s: no accuracy reported: %s (%d pairs: %d genuine, %d impostor, "
            "%d unscored)",
            name,
            model,
            summary["accuracy_note"],
            summary["n_pairs"],
            summary["n_genuine"],
            summary["n_impostor"],
            summary["n_unscored"],
        )
    log.info(
        "protocol %s, model %s: accuracy %s +- %s, AUC %.4f, %d fallback pairs",
        name,
        model,
        summary["accuracy"],
        summary["accuracy_std"],
        summary["auc"],
        summary["n_fallback_pairs"],
    )
    return summary


def benchmarks(summaries: list[str], protocols: list[dict], out: str) -> pd.DataFrame:
    """results/<ds>/verification/benchmarks.tsv: model x protocol."""
    from faceage.protocols.dataset import protocols_from_config
    from faceage.protocols.evaluation import benchmarks_table

    published = {p.name: p.published for p in protocols_from_config(protocols)}
    table = benchmarks_table([c.read_table(s) for s in summaries], published)
    c.write_table(table, out)
    return table
