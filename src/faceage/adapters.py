"""What model adapters and attribute-estimator adapters share.

:class:`Adapter` is the one base of :class:`faceage.models.base.ModelAdapter`
(face recognisers) and :class:`faceage.attributes.base.EstimatorAdapter` (age
and gender): a name, an environment, the weight files with where to get them
(checked before any image is read, :class:`MissingWeightsError`), a download
hint and provenance. :func:`with_retry` is the one batch loop rule (a failed
batch is retried image by image, so one bad image sinks nothing), and
:class:`Stopwatch` the one speed convention: loading timed apart, images/s
over the work after loading, for models and estimators alike.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class WeightFile:
    path: Path
    source: str  # where a user gets it (URL or package)
    note: str = ""


class MissingWeightsError(FileNotFoundError):
    """Weights a model or estimator needs are not where they must be."""

    def __init__(self, model: str, missing: list[WeightFile], hint: str = ""):
        lines = [f"model {model!r}: {len(missing)} weight file(s) missing:"]
        for wf in missing:
            lines.append(
                f"  - {wf.path.name}: expected in folder {wf.path.parent}/ ; "
                f"get it from {wf.source}"
            )
            if wf.note:
                lines.append(f"    ({wf.note})")
        if hint:
            lines.append(hint)
        super().__init__("\n".join(lines))
        self.model = model
        self.missing = missing


class MissingPackageError(ImportError):
    """A Python package a model needs is not installed in the running environment."""

    def __init__(self, model: str, package: str, env: str, exc: Exception | None = None):
        msg = (
            f"model {model!r} needs the Python package {package!r}, which is not importable here"
            f" ({exc}). It belongs in envs/{env}.yaml: run with --sdm conda, or create the venv"
            f" with `scripts/make-venv {env}` and set python_envs.{env} in the config"
        )
        super().__init__(msg)


class Adapter:
    """A model or an estimator: its weights, where to get them, and what changes its outputs."""

    kind: str = "model"  # the provenance key naming it: "model" or "estimator"
    name: str = ""
    env: str = "core"

    def required_files(self, settings: dict, weights_dir: Path) -> list[WeightFile]:
        return []

    def download_hint(self) -> str:
        return ""

    def check_weights(self, settings: dict, weights_dir: Path) -> None:
        missing = [
            wf
            for wf in self.required_files(settings, Path(weights_dir))
            if not Path(wf.path).is_file()
        ]
        if missing:
            raise MissingWeightsError(self.name, missing, self.download_hint())

    def provenance(self, settings: dict, weights_dir: Path) -> dict:
        return {self.kind: self.name, "env": self.env, "settings": settings}


def with_defaults(defaults: dict, settings: dict | None) -> dict:
    """``settings`` over ``defaults`` (a setting given as None keeps the default): what an
    adapter runs with and what its provenance records. The workflow hands over the schema's
    defaults already; an adapter's own ``DEFAULTS`` serve library use and are checked against
    the schema (tests/test_model_defaults.py)."""
    out = dict(defaults)
    out.update({k: v for k, v in (settings or {}).items() if v is not None})
    return out


def weight_facts(paths: list[Path]) -> dict[str, dict]:
    """Size and SHA-256 of each existing weight file (what exactly the embeddings came from)."""
    from faceage.images import file_digest

    return {
        p.name: {"bytes": p.stat().st_size, "sha256": file_digest(p)} for p in paths if p.is_file()
    }


def with_retry(
    call: Callable[[list[T]], list[R]], items: Sequence[T], failed: Callable[[Exception], R]
):
    """``call(items)``; when the batch fails, ``call([item])`` for each, ``failed(exc)`` for those
    that fail alone. ``NotImplementedError`` is not a failure of the images: it propagates."""
    items = list(items)
    try:
        return call(items)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - retried one by one, then recorded per image
        log.warning("batch of %d failed (%s); retrying image by image", len(items), exc)
        out = []
        for item in items:
            try:
                out.extend(call([item]))
            except NotImplementedError:
                raise
            except Exception as one:  # noqa: BLE001 - recorded per image
                out.append(failed(one))
        return out


def failure_status(exc: Exception) -> str:
    """The status of an image whose batch and solo call both failed."""
    return f"error: {type(exc).__name__}: {exc}"


class Stopwatch:
    """Loading and work timed apart: ``speed(images)`` gives the one speed record."""

    def __init__(self):
        self.t0 = time.perf_counter()
        self.loaded_at: float | None = None

    def loaded(self) -> None:
        self.loaded_at = time.perf_counter()

    def speed(self, images: int) -> dict:
        end = time.perf_counter()
        start = self.loaded_at if self.loaded_at is not None else self.t0
        work = end - start
        return {
            "images": images,
            "load_seconds": round(start - self.t0, 3),
            "seconds": round(work, 3),
            "images_per_second": round(images / work, 3) if work > 0 and images else None,
        }
