"""Stage 1 - dataset (workflow/rules/dataset.smk): a folder of face images, or the
images standard protocols name, -> one manifest (+ rejects)."""

from __future__ import annotations

import logging
import os

from faceage import contracts as c
from faceage.steps import step

log = logging.getLogger(__name__)


@step
def demo_dataset(*, output, settings):
    """Draw the synthetic demo's images into ``output.folder``."""
    from faceage.demo import make_demo

    paths = make_demo(
        output.folder,
        persons=settings.persons,
        images_per_person=settings.images_per_person,
        size=settings.size,
        seed=settings.seed,
    )
    log.info("wrote %d synthetic images to %s", len(paths), output.folder)


@step
def manifest(*, input, output, settings):
    """The dataset adapter ``settings.format`` over ``input.dataset``, in ``settings.shards``."""
    from faceage.datasets import build_manifest

    adapter = "folders" if settings.format == "demo" else settings.format
    man, rejects = build_manifest(adapter, input.dataset, settings.shards)
    c.write_manifest(man, output.manifest)
    c.write_table(rejects, output.rejects, c.REJECT_COLUMNS)
    log.info(
        "%d images of %d persons; %d files rejected",
        len(man),
        man["person"].nunique(),
        len(rejects),
    )
    log_reasons(rejects)


def log_reasons(rejects) -> None:
    """One log line per reject reason with its count (the code before ``:``)."""
    for reason, n in rejects["reason"].str.split(":").str[0].value_counts().items():
        log.info("  rejected %d: %s", n, reason)


@step
def protocol_manifest(*, output, settings):
    """The manifest of every image the protocols name, their rejects, and each protocol's pairs
    as ``<output.pairs>/<protocol>.tsv`` (a folder: the protocols differ by dataset)."""
    from faceage.datasets import finish_manifest
    from faceage.protocols.dataset import protocol_manifest as build
    from faceage.protocols.dataset import protocols_from_config

    protocols = protocols_from_config(settings.plain()["protocols"])
    os.makedirs(output.pairs, exist_ok=True)
    out_pairs = {p.name: os.path.join(output.pairs, f"{p.name}.tsv") for p in protocols}
    man, rejects, tables = build(protocols)
    man = finish_manifest(man, settings.shards)
    c.write_manifest(man, output.manifest)
    c.write_table(rejects, output.rejects, c.REJECT_COLUMNS)
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
        "%d images (%d aliases of byte-identical files) in %d shards; %d rejects "
        "(names not found, links and special files, dropped pairs)",
        len(man),
        int(man["alias_of"].notna().sum()),
        settings.shards,
        len(rejects),
    )
    log_reasons(rejects)


@step
def download_fgnet(*, output, settings):
    """FG-NET from its published address into ``output.folder`` (needs internet)."""
    from faceage.datasets.download import fetch_fgnet

    fetch_fgnet(output.folder, settings.url)
