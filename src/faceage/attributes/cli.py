"""Command line for the attribute step that runs in an estimator's own interpreter.

    python -m faceage.attributes.cli predict --estimator agegender --settings '{}' \\
        --weights-dir resources/weights --manifest results/ds/manifest.tsv \\
        [--overrides config/overrides.tsv] --out results/ds/attributes/agegender/predictions.tsv \\
        --timing results/ds/attributes/agegender/timing.json

The workflow calls it with the Python of the estimator's environment (conda
env, or the venv named in ``python_envs``), like ``faceage.cli`` for models.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from faceage.attributes.predict import run_predict


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m faceage.attributes.cli")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("predict", help="predict age and gender for every image of a manifest")
    p.add_argument("--estimator", required=True)
    p.add_argument("--settings", default="{}", help="estimator settings as JSON")
    p.add_argument("--weights-dir", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("--overrides", default=None)
    p.add_argument("--out", required=True)
    p.add_argument("--timing", required=True)
    p.add_argument("--max-side", type=int, default=1600)
    p.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        run_predict(
            args.estimator,
            json.loads(args.settings),
            args.weights_dir,
            args.manifest,
            args.overrides or None,
            args.out,
            args.timing,
            args.max_side,
            args.batch_size,
        )
    except (FileNotFoundError, ImportError, ValueError, RuntimeError) as exc:
        # One line a user can act on, at the end of the log.
        print(f"ERROR [attributes {args.estimator}]: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
