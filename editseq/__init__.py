"""editseq: teach code language models to write programs by editing."""

__version__ = "0.1.0"
