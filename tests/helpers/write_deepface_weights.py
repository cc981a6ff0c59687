"""Write random-init weights for a deepface Keras model with deepface's own builder.

    .venvs/deepface/bin/python tests/helpers/write_deepface_weights.py DEEPFACE_HOME [MODEL]

deepface's ``load_model`` builds the network and then fetches and loads the
published weights. Here the fetch is pointed at the target file and the load
turned into a save, so the real builder writes a weight file (random
initialisation, fixed seed) that deepface's real loader later reads back.
Only this writer is redirected; the test then runs deepface untouched.
"""

import importlib
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["DEEPFACE_BACKEND_ENGINE"] = "tensorflow"

FILES = {"ArcFace": ("ArcFace", "arcface_weights.h5")}


def main() -> int:
    home = Path(sys.argv[1]).resolve()
    model = sys.argv[2] if len(sys.argv) > 2 else "ArcFace"
    os.environ["DEEPFACE_HOME"] = str(home)
    module_name, file_name = FILES[model]
    target = home / ".deepface" / "weights" / file_name
    target.parent.mkdir(parents=True, exist_ok=True)

    import tensorflow as tf

    tf.random.set_seed(0)
    from deepface.commons import weight_utils

    module = importlib.import_module(f"deepface.models.facial_recognition.tf.{module_name}")

    def save_instead(model, weight_file):
        model.save_weights(weight_file)
        return model

    module.weight_utils.download_weights_if_necessary = lambda file_name, source_url, **kw: str(
        target
    )
    module.weight_utils.load_model_weights = save_instead
    assert module.weight_utils is weight_utils
    net = module.load_model()
    print(f"wrote {target} ({target.stat().st_size} bytes, output {net.output_shape})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
