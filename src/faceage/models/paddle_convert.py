"""An ONNX recogniser as a PaddlePaddle inference model that insightface-paddle reads.

Runs in the converter environment (``envs/x2paddle.yaml``: x2paddle 1.6.0, onnx 1.16.2 -
x2paddle imports ``onnx.mapping``, gone from later onnx - and paddlepaddle 3.3.1), through
``faceage paddle-from-onnx MODEL.onnx FOLDER``. Two steps:

1. x2paddle's ``onnx2paddle`` (telemetry off) with ``FLAGS_enable_pir_api=0``, so Paddle 3 writes
   the program format insightface-paddle loads (``model.pdmodel``, not PIR's ``model.json``);
2. :func:`fold_clip_bounds`: x2paddle writes ONNX ``Clip(x, min, max)`` as a ``clip`` op whose
   bounds are tensor inputs (``Min``/``Max`` from ``fill_constant`` ops) and whose ``min``/``max``
   attributes stay at -/+FLT_MAX. Paddle 3.3.1's CPU inference turns oneDNN on whatever
   ``enable_mkldnn`` says, and its ``elementwise_act_onednn_fuse_pass`` fuses a convolution's
   bias add with the clip using the *attributes* only: every ReLU6 of MobileFaceNet silently
   vanishes and the vectors are garbage. With the bounds moved into the attributes the fused
   program is right.

The result is ``FOLDER/inference.pdmodel`` + ``FOLDER/inference.pdiparams``, the layout of
insightface-paddle's own model folders: point ``model_settings.insightface_paddle.rec_model`` at
``FOLDER``. Checked against onnxruntime on the same crops in tests/test_models_paddle_real.py.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PIR_FLAG = "FLAGS_enable_pir_api"


def _paddle():
    os.environ[PIR_FLAG] = "0"  # before paddle is imported
    import paddle

    return paddle


def fold_clip_bounds(program) -> int:
    """Move the scalar ``Min``/``Max`` inputs of every ``clip`` op into its attributes.

    Returns the number of clip ops changed. Raises ``ValueError`` when a bound is not a scalar
    ``fill_constant`` (then it cannot be an attribute).
    """
    block = program.global_block()
    consts = {}
    for op in block.ops:
        if op.type == "fill_constant" and not any(op.input(n) for n in op.input_names):
            if list(op.attr("shape")) in ([1], []):
                consts[op.output("Out")[0]] = float(op.attr("value"))
    changed = 0
    for op in block.ops:
        if op.type != "clip":
            continue
        moved = False
        for slot, attr in (("Min", "min"), ("Max", "max")):
            if slot in op.input_names and op.input(slot):
                name = op.input(slot)[0]
                if name not in consts:
                    raise ValueError(f"clip {slot} input {name!r} is not a scalar fill_constant")
                op._set_attr(attr, consts[name])
                op.desc.set_input(slot, [])
                moved = True
        changed += moved
    program._sync_with_cpp()
    return changed


def convert(onnx_path: str | os.PathLike, out_dir: str | os.PathLike) -> dict:
    """Convert ``onnx_path`` into ``out_dir/inference.{pdmodel,pdiparams}``; a summary."""
    onnx_path, out_dir = Path(onnx_path), Path(out_dir)
    if not onnx_path.is_file():
        raise FileNotFoundError(f"no ONNX model at {onnx_path}")
    paddle = _paddle()
    try:
        from x2paddle.convert import onnx2paddle
    except ImportError as exc:
        raise ImportError(
            f"{exc}: run this in the converter environment (envs/x2paddle.yaml; "
            "make venv-x2paddle, then .venvs/x2paddle/bin/faceage paddle-from-onnx ...)"
        ) from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="faceage-x2paddle-") as work:
        onnx2paddle(str(onnx_path), work, disable_feedback=True)
        prefix = Path(work) / "inference_model" / "model"
        if not prefix.with_suffix(".pdmodel").is_file():
            raise RuntimeError(
                f"x2paddle wrote no {prefix}.pdmodel (found "
                f"{sorted(os.listdir(prefix.parent)) if prefix.parent.is_dir() else 'nothing'}): "
                f"{PIR_FLAG}=0 was not honoured"
            )
        paddle.enable_static()  # x2paddle leaves paddle in dynamic-graph mode
        exe = paddle.static.Executor(paddle.CPUPlace())
        program, feeds, fetches = paddle.static.load_inference_model(str(prefix), exe)
        changed = fold_clip_bounds(program)
        block = program.global_block()
        paddle.static.save_inference_model(
            str(out_dir / "inference"), [block.var(f) for f in feeds], fetches, exe, program=program
        )
    return {
        "onnx": str(onnx_path),
        "folder": str(out_dir),
        "files": sorted(p.name for p in out_dir.iterdir()),
        "clip_ops_folded": changed,
        "inputs": list(feeds),
    }
