"""Stage 2 - clean (workflow/rules/clean.smk): inspect every image once (one job per
shard), then remove or flag what would poison the study, saying why."""

from __future__ import annotations

import logging

import pandas as pd

from faceage import contracts as c
from faceage.steps import step

log = logging.getLogger(__name__)


@step
def detect_faces(*, input, output, settings, wildcards):
    """Decode, hash and count faces for the images of shard ``wildcards.shard``."""
    from faceage.clean import INSPECT_COLUMNS, inspect_images

    shard = int(wildcards.shard)
    man = c.own_content(c.read_manifest(input.manifest))
    rows = man[man["shard"] == shard]
    if settings.detector == "none":  # decoded and hashed only: no face facts
        table = inspect_images(rows, None, settings.max_side)
    else:
        from faceage.detection import DlibDetector

        det = DlibDetector(settings.detector, settings.upsample)
        table = inspect_images(rows, det, settings.max_side, settings.face_choice)
    c.write_table(table, output.inspection, INSPECT_COLUMNS)
    log.info(
        "shard %d: %d images inspected, %d not decodable",
        shard,
        len(table),
        (table["status"] != "ok").sum(),
    )


@step
def clean(*, input, output, settings):
    """The clean manifest, the cleaning report (one row per reason) and its summary."""
    from faceage.clean import (
        CLEAN_COLUMNS,
        REPORT_COLUMNS,
        clean_manifest,
        summarise,
    )
    from faceage.contracts.overrides import read_overrides

    manifest = c.read_table(input.manifest, c.MANIFEST_COLUMNS)
    inspection = pd.concat([c.read_table(p) for p in input.list("inspect")], ignore_index=True)
    overrides = read_overrides(input.optional("overrides"))
    clean_, report = clean_manifest(
        manifest,
        inspection,
        overrides,
        multi_face=settings.multi_face,
        min_images_per_person=settings.min_images_per_person,
        age_range=(settings.age_min, settings.age_max),
        require_age=settings.require_age,
        detector_used=settings.detector != "none",
        keep_all=settings.keep_all,
    )
    c.write_table(clean_, output.manifest, CLEAN_COLUMNS)
    c.write_table(report, output.report, REPORT_COLUMNS)
    c.write_table(summarise(manifest, clean_, report), output.summary)
    log.info(
        "kept %d of %d images (%d persons)",
        len(clean_),
        len(manifest),
        clean_["person"].nunique(),
    )
    if not len(clean_):
        log.error("no image survived cleaning; see %s", output.report)
