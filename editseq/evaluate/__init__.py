"""Functional-correctness evaluation: samples -> sandbox verdicts -> pass@k summary."""
