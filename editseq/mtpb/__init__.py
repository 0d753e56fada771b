"""CodeGen's Multi-Turn Programming Benchmark (MTPB, Nijkamp et al. 2023, arXiv 2203.13474).

Modules: ``data`` (problems, the ``--fixed`` repairs), ``prompts`` (histories, truncation,
single-turn joining), ``harness`` (what runs inside the sandbox: the print rewrite and the
comparison), ``run`` (samples -> sandbox -> results and summary), ``sample`` (drive a model
backend turn by turn), ``perplexity`` (CodeGen Tables 2 and 5).
"""
