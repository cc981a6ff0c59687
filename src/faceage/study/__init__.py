"""The study: every dataset's and model's headline figures side by side (``results/study/``).

A study run covers several datasets (each with its own ``results/<dataset>/``); this package
gathers what their per-dataset tables say, without computing any figure again:

* :mod:`.summary` - the long summary table (a row per dataset x model x subset: ``all`` and
  each gap bin), the conventions each rests on, and the paired differences, benchmark
  accuracies and age/gender estimators of every dataset, stacked with a ``dataset`` column;
* :mod:`.numbers` - a value with its interval as a paper prints it (digits from the interval);
* :mod:`.tables` - the headline tables as Markdown and as LaTeX (booktabs), with a caption that
  states the conventions and the counts in a footnote line.

The figures (small multiples against the age gap, the forest plot of paired differences) are
in :mod:`faceage.plots.study`; the steps in :mod:`faceage.steps.study`; the outputs and columns
in docs/study.md.
"""
