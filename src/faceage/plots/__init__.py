"""All figures of the workflow (matplotlib/seaborn, Agg backend, PNG; no face pixels).

Each function takes tables the analysis has computed and writes one PNG;
plotting never computes statistics itself. One module per analysis:

* :mod:`.similarity` - similarity against age gap, distributions, PCA/t-SNE maps;
* :mod:`.verification` - ROC, metrics against age gap, age-range heatmaps, ageing model;
* :mod:`.paired` - the paired model comparison (forest plot, deployed-threshold FNMR, failure
  to enrol);
* :mod:`.attributes` - the age/gender evaluation.
* :mod:`.study` - the study across datasets (small multiples, forest plot).

This module holds what they share: the backend, the genuine/impostor colours
and :func:`save_png`.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from faceage.contracts import atomic_path  # noqa: E402

PALETTE = {"genuine": "#1b9e77", "impostor": "#d95f02"}


def save_png(fig, path, dpi: int = 110) -> None:
    """Write ``fig`` as a PNG atomically and close it.

    No software stamp, so reruns give the same bytes.
    """
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


# The similarity figures under their old names (``faceage.plots.similarity_by_gap``); imported
# last because they use the helpers above.
from faceage.plots.similarity import (  # noqa: E402
    projection_grid,
    similarity_by_gap,
    similarity_distributions,
)

__all__ = [
    "PALETTE",
    "projection_grid",
    "save_png",
    "similarity_by_gap",
    "similarity_distributions",
]
