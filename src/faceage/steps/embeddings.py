"""Stage 4 - embeddings (workflow/rules/embeddings.smk): every image embedded once per
model, one job per shard, each model in its own interpreter.

``prepare_model`` and ``embed`` run in the model's environment (``python -m
faceage step ...``); their settings are ``model`` (the model's name),
``model_settings`` (``model_settings.<model>`` of the config, passed once:
``batch_size`` and ``fit_images`` are read from it), ``weights_dir``,
``max_side`` and, for ``embed``, the no-face fallback.
"""

from __future__ import annotations

import json
import logging

from faceage import contracts as c
from faceage.steps import step

log = logging.getLogger(__name__)


@step
def prepare_model(*, input, output, settings):
    """Check the weights, fit what the model fits (eigenfaces), load it once, write provenance."""
    from faceage.embed import prepare

    prepare(
        settings.model,
        settings.model_settings.plain(),
        settings.weights_dir,
        input.manifest,
        output.state,
        output.provenance,
        max_side=settings.max_side,
        seed=settings.seed,
    )


@step
def embed(*, input, output, settings, wildcards):
    """Embed the images of shard ``wildcards.shard``: one npz with a status per image, and the
    job's speed record (``output.speed``, JSON: loading timed apart)."""
    from faceage.embed import embed_shard

    summary = embed_shard(
        settings.model,
        settings.model_settings.plain(),
        settings.weights_dir,
        input.manifest,
        int(wildcards.shard),
        output.embeddings,
        input.state,
        max_side=settings.max_side,
        fallback=settings.fallback,
        fallback_crop=settings.fallback_crop,
    )
    if "speed" in output:
        with c.atomic_path(output.speed) as tmp:
            tmp.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")


@step
def merge_embeddings(*, input, output):
    """The shards' npz files -> one per model; every alias gets its original's vector."""
    man = c.read_table(input.manifest)
    aliases = {}
    if "alias_of" in man:
        has = man["alias_of"].notna().to_numpy()
        aliases = dict(
            zip(
                man.loc[has, "image_id"].astype(str),
                man.loc[has, "alias_of"].astype(str),
                strict=True,
            )
        )
    shards = input.list("shards")
    merged = c.merge_embeddings(shards, output.embeddings, aliases)
    log.info(
        "merged %d images from %d shards (%d aliases share a vector)",
        len(merged["image_id"]),
        len(shards),
        len(aliases),
    )


@step
def export_embeddings(*, input, output):
    """The vectors as CSV and one row per image (status, face box, route) as TSV."""
    emb = c.read_embeddings(input.embeddings)
    c.write_vectors_csv(emb, output.vectors)
    c.write_table(c.embeddings_table(emb), output.faces)
