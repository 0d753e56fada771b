from editseq.cli import run

run()
