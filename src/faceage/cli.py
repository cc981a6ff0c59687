"""Command line for the steps that run in a model's own interpreter.

The workflow calls ``python -m faceage.cli prepare|embed ...`` with the
Python of the model's environment (a conda env, or a venv named in the
config's ``python_envs``), so a model's libraries never share a process with
another model's.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from faceage import embed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m faceage.cli")
    sub = ap.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model", required=True)
    common.add_argument("--settings", default="{}", help="model settings as JSON")
    common.add_argument("--weights-dir", required=True)
    common.add_argument("--manifest", required=True)
    common.add_argument("--state-dir", required=True)
    common.add_argument("--max-side", type=int, default=1600)
    p = sub.add_parser("prepare", parents=[common])
    p.add_argument("--provenance", required=True)
    p.add_argument("--fit-images", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    e = sub.add_parser("embed", parents=[common])
    e.add_argument("--shard", type=int, required=True)
    e.add_argument("--out", required=True)
    e.add_argument("--batch-size", type=int, default=32)
    e.add_argument("--fallback", default="none", help="when no face is found: none or centre_crop")
    e.add_argument(
        "--fallback-crop", type=float, default=1.0, help="centre square side / shorter image side"
    )
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = json.loads(args.settings)
    try:
        if args.cmd == "prepare":
            embed.prepare(
                args.model,
                settings,
                args.weights_dir,
                args.manifest,
                args.state_dir,
                args.provenance,
                max_side=args.max_side,
                fit_images=args.fit_images,
                seed=args.seed,
            )
        else:
            embed.embed_shard(
                args.model,
                settings,
                args.weights_dir,
                args.manifest,
                args.shard,
                args.out,
                args.state_dir,
                max_side=args.max_side,
                batch_size=args.batch_size,
                fallback=args.fallback,
                fallback_crop=args.fallback_crop,
            )
    except (FileNotFoundError, ImportError, ValueError) as exc:
        # One line a user can act on, at the end of the log.
        print(f"ERROR [{args.model}]: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
