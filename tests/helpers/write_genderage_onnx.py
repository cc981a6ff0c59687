"""Write a random-init gender/age ONNX model that insightface's own model router accepts.

    python write_genderage_onnx.py OUT.onnx [SEED]

Run in the insightface venv (needs the ``onnx`` package). The graph has the
shape of buffalo_l's genderage.onnx: input ``data`` [N, 3, 96, 96] float,
one output ``fc1`` [N, 3] (two gender scores, age / 100), so
``insightface.model_zoo.get_model`` routes it to ``Attribute`` with task
``genderage``. Weights are random (seeded): outputs are meaningless, but the
library's real code path runs end to end.
"""

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main(out: str, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    weight = (rng.standard_normal((3 * 96 * 96, 3)) * 0.01).astype(np.float32)
    bias = np.zeros(3, dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["data"], ["flat"], name="flatten0", axis=1),
            helper.make_node("Gemm", ["flat", "w", "b"], ["logits"], name="gemm0"),
            helper.make_node("Sigmoid", ["logits"], ["fc1"], name="sigmoid0"),
        ],
        "genderage_random",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, 96, 96])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, ["N", 3])],
        initializer=[numpy_helper.from_array(weight, "w"), numpy_helper.from_array(bias, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, out)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)
