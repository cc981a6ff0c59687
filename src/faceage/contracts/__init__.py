"""The data contract between the workflow's stages, written down once.

Every stage reads and writes its tables through the functions here, so the
column names, their order and their types are defined in one place.

Stage files (``<ds>`` is the dataset name from the config):

``results/<ds>/manifest.tsv`` (dataset stage)
    One row per image the adapter understood. Columns ``MANIFEST_COLUMNS``:
    ``image_id`` (stable: derived from the path relative to the dataset root,
    so it survives re-runs and re-orderings), ``path`` (absolute or relative
    to the working directory), ``person`` (identity label, string), ``age``
    (years, integer; may be empty when unknown), ``gender`` (``M``/``F`` or
    empty), ``source`` (the file name as found), ``shard`` (0-based integer:
    persons are split into shards, all images of a person in one shard).
``results/<ds>/rejects.tsv`` (dataset stage)
    Files the adapter could not use: ``source``, ``path``, ``reason``.
``results/<ds>/clean/manifest.tsv`` (clean stage)
    Same columns as the manifest, only the images kept, plus the face facts of
    the cleaning detector: ``n_faces``, ``face_left``, ``face_top``,
    ``face_right``, ``face_bottom`` (pixels in the image as loaded by
    :func:`faceage.images.load_rgb`), ``face_score``.
``results/<ds>/clean/cleaning_report.tsv`` (clean stage)
    One row per removed or flagged image: ``image_id``, ``source``, ``person``,
    ``action`` (``removed``, ``flagged``, ``relabelled``), ``reason`` (a short
    code, see :data:`faceage.clean.REASONS`) and ``detail`` (free text).
``results/<ds>/pairs.parquet`` (comparisons stage)
    ``PAIR_COLUMNS``: ``pair_id``, ``image_a``, ``image_b``, ``person_a``,
    ``person_b``, ``genuine`` (1 same person, 0 different), ``age_a`` <=
    ``age_b`` (years), ``age_gap`` (``age_b - age_a``), ``range_a``, ``range_b``
    (age-range labels from the configured bins), then ``fold`` (the person-disjoint
    fold of the pair for the 10-fold accuracy: both persons of a pair are in
    it; -1 for a pair across folds, empty when the pairs were drawn without
    folds).
``results/<ds>/embeddings/<model>/shard_<k>.npz`` and ``.../<model>.npz``
    Embeddings, see :func:`write_embeddings`: per image the vector (NaN when
    no vector could be made) and the model's detection facts.
``results/<ds>/scores/<model>.parquet`` (scores stage)
    The pair columns plus ``similarity``: cosine similarity of the two
    embeddings (1 = same direction; higher means more alike), empty when one
    of the images has no embedding.

The pairs and scores tables are Parquet (``results/<ds>/pairs.parquet``,
``results/<ds>/scores/<model>.parquet``: pyarrow, zstd, text columns dictionary-encoded,
read column by column), every other table is tab-separated UTF-8 with a header; both carry the
dtypes above and floats to 6 significant digits (:func:`write_table`). ``tsv_export: true`` (or
the target ``results/<ds>/tsv/...``) writes the Parquet tables as TSV too. All are written
atomically (to a temporary file in the same folder, then renamed), so an interrupted job never
leaves a file that looks complete. A file that cannot be read back all the same (cut short by a
copy, a full disk; an embeddings file breaking its contract) is a
:class:`DamagedFileError` naming it: delete it and re-run.
"""

from faceage.contracts.columns import (
    CLEAN_COLUMNS,
    DTYPES,
    FACE_COLUMNS,
    MANIFEST_COLUMNS,
    PAIR_COLUMNS,
    REJECT_COLUMNS,
    REPORT_COLUMNS,
    SCORE_COLUMNS,
    STATUS_OK,
)
from faceage.contracts.embeddings import (
    EMBEDDING_ARRAYS,
    FALLBACK_ROUTES,
    ROUTES,
    default_route,
    embeddings_table,
    expand_aliases,
    merge_embeddings,
    read_embeddings,
    write_embeddings,
    write_vectors_csv,
)
from faceage.contracts.manifest import EmptyDatasetError, first_copies, own_content, require_images
from faceage.contracts.tables import (  # noqa: I001
    DamagedFileError,
    atomic_path,
    empty_table,
    export_tsv,
    is_parquet,
    iter_table,
    parquet_writer,
    read_compact,
    read_manifest,
    read_pairs,
    read_table,
    six_digits,
    write_manifest,
    write_pairs,
    write_table,
)

__all__ = [
    "CLEAN_COLUMNS",
    "DTYPES",
    "EMBEDDING_ARRAYS",
    "FACE_COLUMNS",
    "MANIFEST_COLUMNS",
    "PAIR_COLUMNS",
    "REJECT_COLUMNS",
    "REPORT_COLUMNS",
    "FALLBACK_ROUTES",
    "ROUTES",
    "SCORE_COLUMNS",
    "STATUS_OK",
    "DamagedFileError",
    "EmptyDatasetError",
    "atomic_path",
    "default_route",
    "embeddings_table",
    "empty_table",
    "expand_aliases",
    "export_tsv",
    "is_parquet",
    "six_digits",
    "first_copies",
    "merge_embeddings",
    "own_content",
    "read_embeddings",
    "read_manifest",
    "iter_table",
    "parquet_writer",
    "read_compact",
    "read_pairs",
    "read_table",
    "require_images",
    "write_embeddings",
    "write_manifest",
    "write_pairs",
    "write_table",
    "write_vectors_csv",
]
