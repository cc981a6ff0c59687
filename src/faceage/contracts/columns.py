"""The columns of every stage table, in order, and the type each column is read with."""

from __future__ import annotations

MANIFEST_COLUMNS = ["image_id", "path", "person", "age", "gender", "source", "shard"]
REJECT_COLUMNS = ["source", "path", "reason"]
FACE_COLUMNS = ["n_faces", "face_left", "face_top", "face_right", "face_bottom", "face_score"]
CLEAN_COLUMNS = MANIFEST_COLUMNS + FACE_COLUMNS
REPORT_COLUMNS = ["image_id", "source", "person", "action", "reason", "detail"]
PAIR_COLUMNS = [
    "pair_id",
    "image_a",
    "image_b",
    "person_a",
    "person_b",
    "genuine",
    "age_a",
    "age_b",
    "age_gap",
    "range_a",
    "range_b",
]
SCORE_COLUMNS = PAIR_COLUMNS + ["similarity"]

# Status of one image in an embeddings file.
STATUS_OK = "ok"

# The dtype :func:`faceage.contracts.read_table` gives each known column.
DTYPES = {
    "image_id": "string",
    "path": "string",
    "person": "string",
    "age": "Int64",
    "gender": "string",
    "source": "string",
    "shard": "Int64",
    "reason": "string",
    "n_faces": "Int64",
    "face_score": "float64",
    "face_left": "float64",
    "face_top": "float64",
    "face_right": "float64",
    "face_bottom": "float64",
    "action": "string",
    "detail": "string",
    "pair_id": "Int64",
    "image_a": "string",
    "image_b": "string",
    "person_a": "string",
    "person_b": "string",
    "genuine": "Int64",
    "age_a": "Int64",
    "age_b": "Int64",
    "age_gap": "Int64",
    "range_a": "string",
    "range_b": "string",
    "similarity": "float64",
    "sha256": "string",
    "alias_of": "string",
    "aligned": "boolean",
    "fold": "Int64",
}
