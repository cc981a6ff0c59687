"""The ``faceage`` command: what users run by hand, and the steps the rules run.

    faceage predict FOLDER [--estimator agegender] [--out ages.tsv]
    faceage protocol FILE --format agedb_mat --images DIR [--name agedb30] [--out config/p.yaml]
    faceage review apply REVIEW [OVERRIDES]
    faceage estimate --dataset fgnet --images 16488 --shards 8
    faceage download MODEL [--weights-dir resources/weights]
    faceage paddle-from-onnx MODEL.onnx FOLDER
    faceage bench {models,protocol,backbone,paired,scale,pool,attributes,study} [ARGS...]
    faceage step RULE --input name=path ... --output name=path --settings JSON

Installed as a console script by ``pip install -e .`` (``[project.scripts]``);
``python -m faceage`` is the same command.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from faceage import __version__

ROOT = Path(__file__).resolve().parents[2]
BENCHES = {
    "models": "scripts/bench_models.py",
    "protocol": "scripts/bench_protocol.py",
    "backbone": "scripts/bench_backbone.py",
    "paired": "scripts/bench_paired.py",
    "scale": "scripts/bench_scale.py",
    "pool": "scripts/bench_pool.py",
    "attributes": "scripts/attributes-benchmark",
    "study": "scripts/bench_study_dag.py",
}


def _predict(a) -> int:
    """Age and gender of every face in a folder of unlabelled photos."""
    import pandas as pd

    from faceage.attributes.predict import predict_frame
    from faceage.images import is_image_name

    folder = Path(a.folder)
    if not folder.is_dir():
        print(f"ERROR: {folder} is not a folder", file=sys.stderr)
        return 2
    files = sorted(p for p in folder.rglob("*") if p.is_file() and is_image_name(p.name))
    if not files:
        print(f"ERROR: no image files under {folder}", file=sys.stderr)
        return 2
    rows = pd.DataFrame(
        {
            "image_id": [str(p.relative_to(folder)) for p in files],
            "person": pd.NA,
            "age": pd.NA,
            "gender": pd.NA,
            "path": [str(p) for p in files],
        }
    )
    table, timing = predict_frame(
        a.estimator, json.loads(a.settings), a.weights_dir, rows, batch_size=a.batch_size
    )
    table = table.drop(columns=["person", "age", "gender"]).rename(columns={"image_id": "image"})
    out = sys.stdout if a.out == "-" else a.out
    table.to_csv(out, sep="\t", index=False, lineterminator="\n", float_format="%.4g")
    print(
        f"{timing['predicted']} of {timing['images']} images predicted by {a.estimator}"
        f" ({timing['images_per_second'] or 0:.1f} images/s, model loading excluded)",
        file=sys.stderr,
    )
    return 0


def _protocol(a) -> int:
    """Read a protocol, say what it names and finds, and write the config of its protocol run."""
    import yaml

    from faceage.protocols.dataset import protocol_manifest, protocols_from_config

    entry = {"file": a.file, "format": a.format}
    for key in ("name", "images", "labels"):
        if getattr(a, key):
            entry[key] = getattr(a, key)
    if a.aligned:
        entry["aligned"] = True
    if a.published is not None:
        entry["published"] = {"accuracy": a.published}
    (proto,) = protocols_from_config([entry])
    man, rejects, tables = protocol_manifest([proto])
    table = tables[proto.name]
    unmatched = int(table[["id_a", "id_b"]].isna().any(axis=1).sum())
    print(
        f"protocol {proto.name}: {len(table)} pairs, {len(man)} images found,"
        f" {unmatched} pairs with a name not found, {len(rejects)} rejected files",
        file=sys.stderr,
    )
    config = {
        "dataset": a.dataset or proto.name,
        "dataset_format": "protocol",
        "protocols": [entry],
    }
    text = (
        "# A protocol run (docs/verification.md, 'Standard benchmarks'): made by faceage protocol\n"
        + yaml.safe_dump(config, sort_keys=False)
    )
    if a.out == "-":
        sys.stdout.write(text)
    else:
        Path(a.out).write_text(text)
        print(f"wrote {a.out}: snakemake -c8 --configfile {a.out}", file=sys.stderr)
    return 0 if len(table) else 1


def _review(a) -> int:
    """Append the verdicts of a filled-in review sheet to the overrides file."""
    import pandas as pd

    from faceage.attributes.flags import verdicts_to_overrides
    from faceage.contracts.overrides import append_overrides

    review = pd.read_csv(a.review, sep="\t", dtype=str, keep_default_na=False)
    lines = verdicts_to_overrides(review)
    added = append_overrides(lines, a.overrides)
    print(f"{len(lines)} verdict(s) in {a.review}; {added} new line(s) appended to {a.overrides}")
    return 0


def _estimate(a) -> int:
    """Wall time and memory to ask SLURM for, from a finished (smaller) run's benchmarks: for
    one dataset (--images, --shards), or for a whole study (--plan NAME=IMAGES:SHARDS, once per
    dataset)."""
    import pandas as pd

    from faceage.cluster import estimate, estimate_study, parse_plan

    if not a.plan and (a.images is None or a.shards is None):
        print(
            "faceage estimate: give --images and --shards, or --plan once per dataset",
            file=sys.stderr,
        )
        return 2
    if a.plan:
        try:
            plans = [parse_plan(p) for p in a.plan]
        except ValueError as exc:
            print(f"faceage estimate: {exc}", file=sys.stderr)
            return 2
        table, totals, problems = estimate_study(a.dataset, plans, a.margin, a.workdir)
    else:
        table, problems = estimate(a.dataset, a.images, a.shards, a.margin, a.workdir)
        totals = None
    for p in problems:
        print(p, file=sys.stderr)
    if table.empty:
        return 1
    with pd.option_context("display.width", 200, "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))
        if totals is not None:
            print()
            print(totals.to_string(index=False))
    return 0


def _download(a) -> int:
    """A model's published weights into the weights folder (needs internet)."""
    from faceage.models.download import download_model

    record = Path(a.weights_dir) / ".downloads" / f"{a.model}.json"
    try:
        download_model(a.model, json.loads(a.settings), a.weights_dir, record)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"ERROR [{a.model}]: download failed: {exc}", file=sys.stderr)
        return 1
    print(f"weights of {a.model} in {a.weights_dir}; record {record}", file=sys.stderr)
    return 0


def _paddle_from_onnx(a) -> int:
    """An ONNX recogniser as an insightface-paddle model folder (in envs/x2paddle.yaml's env)."""
    from faceage.models.paddle_convert import convert

    try:
        info = convert(a.onnx, a.folder)
    except (OSError, ImportError, ValueError, RuntimeError) as exc:
        print(f"ERROR [paddle-from-onnx]: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(info, indent=2))
    return 0


def _bench(a) -> int:
    """Run one of the benchmark scripts (they need a checkout of the repository).

    Their numbers are in docs/performance.md and docs/models.md.
    """
    script = ROOT / BENCHES[a.name]
    if not script.is_file():
        print(
            f"ERROR: faceage bench {a.name} runs {BENCHES[a.name]} from a checkout of the "
            "repository, with the data beside it; this faceage is installed without one "
            f"(looked in {ROOT}). Clone the repository and run it there: "
            "make setup && .venv/bin/faceage bench ...",
            file=sys.stderr,
        )
        return 2
    return subprocess.call([sys.executable, str(script), *a.args])


def parser() -> argparse.ArgumentParser:
    # The choices come from the registries (tests/test_registries.py checks the docs against them).
    from faceage.attributes import ESTIMATORS
    from faceage.models import MODELS

    try:
        from faceage.protocols.formats import FORMATS
        from faceage.protocols.matching import LABELS
    except ImportError:  # an env without pandas (x2paddle: only paddle-from-onnx runs there)
        FORMATS, LABELS = {}, ()

    ap = argparse.ArgumentParser(
        prog="faceage",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:10]),
    )
    ap.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("predict", help=_predict.__doc__)
    p.add_argument("folder")
    p.add_argument("--estimator", default="agegender", choices=list(ESTIMATORS))
    p.add_argument("--settings", default="{}", help="estimator settings as JSON")
    p.add_argument("--weights-dir", default="resources/weights")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--out", default="-", help="TSV file (default: standard output)")
    p.set_defaults(run=_predict)

    p = sub.add_parser("protocol", help=_protocol.__doc__)
    p.add_argument("file", help="the protocol file (.mat, pairs.txt, .csv, .bin)")
    p.add_argument("--format", required=True, choices=list(FORMATS) or None)
    p.add_argument("--images", help="the folder of the images it names")
    p.add_argument("--name")
    p.add_argument("--labels", choices=["auto", *LABELS], help="default: auto (the format's)")
    p.add_argument("--aligned", action="store_true", help="images are aligned 112x112 crops")
    p.add_argument("--published", type=float, help="a published accuracy to compare with")
    p.add_argument("--dataset", help="the run's dataset name (default: the protocol's)")
    p.add_argument("--out", default="-", help="config file to write (default: standard output)")
    p.set_defaults(run=_protocol)

    p = sub.add_parser("review", help="apply the verdicts of a review sheet")
    rs = p.add_subparsers(dest="review_cmd", required=True)
    r = rs.add_parser("apply", help=_review.__doc__)
    r.add_argument("review")
    r.add_argument("overrides", nargs="?", default="config/overrides.tsv")
    r.set_defaults(run=_review)

    p = sub.add_parser("estimate", help=_estimate.__doc__)
    p.add_argument("--dataset", required=True, help="dataset name of the measured run")
    p.add_argument("--images", type=int, help="images of the dataset to plan for")
    p.add_argument("--shards", type=int, help="shards to plan for")
    p.add_argument(
        "--plan",
        action="append",
        default=[],
        metavar="NAME=IMAGES:SHARDS",
        help="a dataset of a study to plan for (repeat per dataset; instead of --images/--shards)",
    )
    p.add_argument("--margin", type=float, default=3.0, help="safety factor on the wall time")
    p.add_argument("--workdir", default=".", help="folder with benchmarks/ and results/")
    p.set_defaults(run=_estimate)

    p = sub.add_parser("download", help=_download.__doc__)
    p.add_argument("model", help=" | ".join(MODELS))
    p.add_argument("--settings", default="{}", help="model settings as JSON")
    p.add_argument("--weights-dir", default="resources/weights")
    p.set_defaults(run=_download)

    p = sub.add_parser("paddle-from-onnx", help=_paddle_from_onnx.__doc__)
    p.add_argument("onnx", help="the ONNX recogniser (input N x 3 x 112 x 112, RGB, [-1, 1])")
    p.add_argument("folder", help="folder to write inference.pdmodel and inference.pdiparams to")
    p.set_defaults(run=_paddle_from_onnx)

    p = sub.add_parser("bench", help=_bench.__doc__)
    p.add_argument("name", choices=sorted(BENCHES))
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(run=_bench)

    sub.add_parser("step", help="run one workflow step (the rules call this)", add_help=False)
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["step"]:
        from faceage.steps import main as step_main

        return step_main(argv[1:])
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
