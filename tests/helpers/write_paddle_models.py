"""Save small random PaddlePaddle inference models in the layout insightface-paddle reads.

    .venvs/paddle/bin/python tests/helpers/write_paddle_models.py OUT_DIR [DIM]

Writes OUT_DIR/TinyRec/inference.{pdmodel,pdiparams}: a recogniser (input
[N, 3, 112, 112] -> [N, DIM], random init, fixed seed), and
OUT_DIR/TinyDet/...: a detector with the package's feeds (image, im_shape,
scale_factor) and output rows [class, score, x0, y0, x1, y1] in original
pixels: one box over the central 60 % x 70 % of the image, its score a random
function of the image. Saved with FLAGS_enable_pir_api=0 (the old program
format the package's predictor loads).
"""

import os
import sys
from pathlib import Path

os.environ["FLAGS_enable_pir_api"] = "0"

import warnings  # noqa: E402

import paddle  # noqa: E402

warnings.filterwarnings("ignore")


def save(prefix: Path, feeds, fetches, main, exe) -> None:
    prefix.parent.mkdir(parents=True, exist_ok=True)
    paddle.static.save_inference_model(str(prefix), feeds, fetches, exe, program=main)


def main() -> int:
    out = Path(sys.argv[1])
    dim = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    paddle.enable_static()
    paddle.seed(0)
    exe = paddle.static.Executor(paddle.CPUPlace())

    main_p, startup = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(main_p, startup):
        x = paddle.static.data("x", [None, 3, 112, 112], "float32")
        h = paddle.nn.functional.relu(paddle.static.nn.conv2d(x, 16, 3, stride=2))
        h = paddle.nn.functional.relu(paddle.static.nn.conv2d(h, 32, 3, stride=2))
        h = paddle.flatten(paddle.nn.functional.adaptive_avg_pool2d(h, 4), 1)
        emb = paddle.static.nn.fc(h, dim)
    exe.run(startup)
    save(out / "TinyRec" / "inference", [x], [emb], main_p, exe)

    main_p, startup = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(main_p, startup):
        image = paddle.static.data("image", [1, 3, None, None], "float32")
        im_shape = paddle.static.data("im_shape", [1, 2], "float32")
        scale = paddle.static.data("scale_factor", [1, 2], "float32")
        orig = im_shape / scale  # (height, width) of the original image
        hh, ww = orig[:, 0:1], orig[:, 1:2]
        pooled = paddle.flatten(paddle.nn.functional.adaptive_avg_pool2d(image, 1), 1)
        score = paddle.static.nn.fc(pooled, 1, activation="sigmoid")
        boxes = paddle.concat([score * 0, score, 0.2 * ww, 0.15 * hh, 0.8 * ww, 0.85 * hh], axis=1)
    exe.run(startup)
    save(out / "TinyDet" / "inference", [image, im_shape, scale], [boxes], main_p, exe)
    print(sorted(str(p.relative_to(out)) for p in out.rglob("inference.*")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
