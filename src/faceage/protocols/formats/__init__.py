"""Standard verification protocols as inputs, so published numbers can be reproduced.

Every parser returns the same table (:data:`PROTOCOL_COLUMNS`): one row per
pair in the file's order, ``image_a`` and ``image_b`` (image names as the
protocol writes them), ``genuine`` (1 same person, 0 different) and ``fold``
(0-based).

Formats (``format`` in the config):

``agedb_mat``
    AgeDB's ``04_FINAL_protocol_<5|10|20|30>_years.mat``: a MATLAB struct array
    ``splits`` of 10 splits; each holds the 2 x 600 image names (without
    ``.jpg``) and 600 labels +1/-1. Split *k* is fold *k*. The parser does not
    depend on the struct's field names: in each split it takes the array of
    names (2 x N, N x 2, or two lists of N) and the vector of +1/-1 labels.
``lfw``
    LFW's ``pairs.txt``: a header ``<sets> <n>``, then per set n lines
    ``name i j`` (same person) and n lines ``name1 i name2 j`` (different);
    images ``name/name_000i.jpg``; set *k* is fold *k*. A header with one
    number (``pairsDevTest.txt``) is one fold.
``calfw`` / ``cplfw``
    Two lines per pair, ``image label``; the label on the pair's first line
    is 0 for different persons and non-zero for the same person (CALFW
    numbers its genuine pairs). 3000 genuine then 3000 impostor pairs; fold
    *k* takes the *k*-th tenth of each class (300 + 300).
``insightface_bin``
    insightface's evaluation files (``agedb_30.bin``, ``calfw.bin``,
    ``cplfw.bin``, ``lfw.bin``, ``cfp_fp.bin``): a pickle of (list of encoded
    112 x 112 aligned images, list of issame booleans); pair *i* is images
    2i and 2i + 1; folds as insightface's unshuffled 10-fold split. Image
    names are ``<index>`` (5 digits) and the images are read from the file
    itself (:func:`read_bin`), through :class:`RestrictedUnpickler`, which
    accepts only the types such a file holds.
``csv``
    A CSV with header ``image_a,image_b,same,fold`` (``same`` 1/0 or
    true/false; ``fold`` optional: without it, pairs are cut into 10
    contiguous folds in file order as insightface's KFold does), e.g. for
    CACD-VS.

Evaluation (:func:`faceage.protocols.evaluation.evaluate_protocol`) uses the workflow's
embeddings of the protocol's images and follows insightface's ``verification.py`` (see
:func:`faceage.analysis.verification.insightface_accuracy`), not FaceX-Zoo's:
insightface chooses the threshold maximising accuracy on the 9 training folds
from a fixed grid and reports the population standard deviation of the 10
fold accuracies; FaceX-Zoo maximises TPR - FPR on a grid spanning the scores
and reports the standard error (``std(ddof=1) / sqrt(10)``). insightface also
embeds each image and its mirror image and adds the two vectors; our models
embed each image once, which can cost a few tenths of a percent.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from faceage.images import ImageError, regular_file_size
from faceage.protocols.formats.agedb import read_agedb_mat
from faceage.protocols.formats.base import (
    PROTOCOL_COLUMNS,
    ProtocolError,
    class_folds,
    kfold_blocks,
    protocol_table,
)
from faceage.protocols.formats.insightface_bin import (
    RestrictedUnpickler,
    UnsafePickleError,
    bin_image_name,
    read_bin,
    read_insightface_bin,
)
from faceage.protocols.formats.text import (
    lfw_image,
    read_calfw_pairs,
    read_csv_protocol,
    read_lfw_pairs,
)

# The largest protocol file read: an insightface .bin holds its images (cfp_fp.bin, 7000
# of them, is about 200 MB); a text pair list is a few hundred kB.
MAX_PROTOCOL_BYTES = 2 * 2**30


@dataclass(frozen=True)
class ProtocolFormat:
    """One protocol format: its parser and the facts the rest of the workflow asks of it.

    ``labels`` is the default label parser of its image names (``labels: auto``);
    ``images_inside``: the images are in the file itself (no ``images`` folder);
    ``aligned``: the images are aligned face crops by default; ``benchmark``: the public
    benchmark every file of this format is ('' when the file decides);
    ``named_by_benchmark``: a file is named after its benchmark (``agedb_30.bin``);
    ``expected``: what a file of the format looks like, said in every error about such a file.
    """

    name: str
    reader: Callable[[str | os.PathLike], pd.DataFrame]
    labels: str
    expected: str
    images_inside: bool = False
    aligned: bool = False
    benchmark: str = ""
    named_by_benchmark: bool = False


_CALFW_EXPECTED = "two lines per pair, '<image> <label>' (label 0 = different, non-zero = same)"

# The one list of protocol formats: the schema's enum, the CLI help and the docs tables are
# checked against it (tests/test_registries.py).
FORMATS: dict[str, ProtocolFormat] = {
    f.name: f
    for f in (
        ProtocolFormat(
            "agedb_mat",
            read_agedb_mat,
            labels="agedb",
            expected="a MATLAB .mat file with a variable 'splits' (AgeDB's "
            "04_FINAL_protocol_<gap>_years.mat)",
        ),
        ProtocolFormat(
            "lfw",
            read_lfw_pairs,
            labels="lfw",
            expected="LFW's pairs.txt: a header '<sets> <pairs per class>', then lines "
            "'name i j' (same) and 'name1 i name2 j' (different)",
            benchmark="lfw",
        ),
        ProtocolFormat(
            "calfw", read_calfw_pairs, labels="lfw", expected=_CALFW_EXPECTED, benchmark="calfw"
        ),
        ProtocolFormat(
            "cplfw", read_calfw_pairs, labels="lfw", expected=_CALFW_EXPECTED, benchmark="cplfw"
        ),
        ProtocolFormat(
            "csv",
            read_csv_protocol,
            labels="none",
            expected="a CSV with header image_a,image_b,same[,fold] (same 1/0 or true/false)",
        ),
        ProtocolFormat(
            "insightface_bin",
            read_insightface_bin,
            labels="none",
            expected="insightface's evaluation .bin: a pickle of (encoded images, issame "
            "booleans), e.g. agedb_30.bin",
            images_inside=True,
            aligned=True,
            named_by_benchmark=True,
        ),
    )
}


def protocol_format(fmt: str) -> ProtocolFormat:
    """The registry entry of ``fmt``; an unknown name is a ValueError naming the known ones."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown protocol format {fmt!r}; known: {', '.join(FORMATS)}")
    return FORMATS[fmt]


def read_protocol(path: str | os.PathLike, fmt: str) -> pd.DataFrame:
    """Parse a protocol file of format ``fmt`` (one of :data:`FORMATS`).

    Every failure to read the file is a :class:`ProtocolError` that names the file, the format
    and what a file of that format looks like (the reader's own words kept); so is a file
    with no pair (a header alone), one that is not a regular file (a FIFO or device: never
    opened) and one beyond :data:`MAX_PROTOCOL_BYTES`.
    """
    entry = protocol_format(fmt)
    if not os.path.lexists(path):
        raise FileNotFoundError(f"protocol file {path} does not exist")
    try:
        regular_file_size(path, MAX_PROTOCOL_BYTES)
    except ImageError as exc:  # a FIFO would block the reader forever; a device read forever
        raise ProtocolError(f"protocol file {path}: {exc.reason}: {exc.detail}") from exc
    hint = f"expected for format {fmt}: {entry.expected}; check the file and protocols[].format"
    try:
        table = entry.reader(path)
    except UnsafePickleError:
        raise  # its message says what was refused and that nothing ran
    except ProtocolError as exc:
        raise ProtocolError(f"{exc} ({hint})") from exc
    except Exception as exc:  # noqa: BLE001 - whatever the reader's library raises
        # a library's own words (scipy's "Unknown mat file type"), without the file or format
        raise ProtocolError(
            f"{path}: not a readable {fmt} protocol file: {type(exc).__name__}: {exc} ({hint})"
        ) from exc
    if not len(table):
        raise ProtocolError(
            f"protocol file {path} holds no pairs (a header alone, or empty): nothing to "
            f"evaluate ({hint})"
        )
    return table


__all__ = [
    "FORMATS",
    "MAX_PROTOCOL_BYTES",
    "PROTOCOL_COLUMNS",
    "ProtocolError",
    "ProtocolFormat",
    "RestrictedUnpickler",
    "UnsafePickleError",
    "bin_image_name",
    "class_folds",
    "kfold_blocks",
    "lfw_image",
    "protocol_format",
    "protocol_table",
    "read_agedb_mat",
    "read_bin",
    "read_calfw_pairs",
    "read_csv_protocol",
    "read_insightface_bin",
    "read_lfw_pairs",
    "read_protocol",
]
