"""Standard verification protocols (AgeDB-30, LFW, CALFW, CPLFW, CACD-VS, insightface .bin).

A protocol is a dataset: :mod:`.dataset` builds the manifest of exactly the
images a protocol names; :mod:`.formats` parses each file format;
:mod:`.matching` finds a file for each name and reads labels from names;
:mod:`.evaluation` scores the pairs with a model's embeddings and computes
insightface's 10-fold accuracy, never from a depleted set.
"""

from faceage.protocols.formats import (
    FORMATS,
    PROTOCOL_COLUMNS,
    ProtocolError,
    UnsafePickleError,
    read_protocol,
)

__all__ = ["FORMATS", "PROTOCOL_COLUMNS", "ProtocolError", "UnsafePickleError", "read_protocol"]
