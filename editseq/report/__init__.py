"""Reports: pass@k curves, per-problem views, MTPB categories, diversity and LintSeq stats as HTML.

``build.build_report`` is the entry point; ``inputs`` reads results, ``metrics`` and
``diversity`` compute, ``figures`` and ``html`` draw. Needs matplotlib (``pip install 'editseq[report]'``).
"""
