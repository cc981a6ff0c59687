"""``python -m faceage``: the ``faceage`` command (:mod:`faceage.command`)."""

from faceage.command import main

raise SystemExit(main())
