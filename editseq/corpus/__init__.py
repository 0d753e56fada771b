"""Training corpora built from what is installed (no hub needed)."""
