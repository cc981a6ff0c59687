"""Run the real embedding driver for one model inside the current (model's) env.

    .venvs/<env>/bin/python tests/helpers/embed_in_env.py --model M --settings JSON \
        --weights DIR --manifest M.tsv --out DIR [--batch-size N] [--fallback MODE]

Writes DIR/provenance.json (faceage.embed.prepare), DIR/shard_0.npz
(faceage.embed.embed_shard) and DIR/summary.json (its timing summary).
"""

import argparse
import json
import logging
import sys
from pathlib import Path

from faceage.embed import embed_shard, prepare


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--settings", default="{}")
    ap.add_argument("--weights", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--fallback", default="none", help="the no-face fallback (embed_shard)")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    out = Path(a.out)
    settings = json.loads(a.settings)
    prepare(a.model, settings, a.weights, a.manifest, out / "state", out / "provenance.json")
    summary = embed_shard(
        a.model,
        settings,
        a.weights,
        a.manifest,
        0,
        out / "shard_0.npz",
        out / "state",
        batch_size=a.batch_size,
        fallback=a.fallback,
    )
    (out / "summary.json").write_text(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
