"""Face-Age-Invariant: how well face-recognition models recognise the same person across age.

The package holds the workflow's logic; the Snakemake rules call it. It
never imports snakemake. See :mod:`faceage.contracts` for the data contract
between the stages.
"""

__version__ = "0.1.0"
