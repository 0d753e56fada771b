#!/usr/bin/env bash
# Here (CPU): pack what the lent GPU machine lacks into two carry folders of under 64 MiB each.
#   .device/a  wheels that machine's image lacks (trl, datasets, dill, multiprocess, gguf; for its
#              Python 3.12), the HumanEval and MBPP+ files, the LintSeq data made here (docstring
#              pairs from this machine's standard library + 5 edit sequences each), half the model
#   .device/b  the other half of SmolLM2-135M-Instruct.Q4_1.gguf (98 MB: over one call's 64 MiB)
# Then follow experiments/lintseq_smollm2/README.md ("On the lent GPU machine").
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
OUT=runs/lintseq_smollm2
rm -rf .device && mkdir -p .device/a/whl .device/a/data .device/b "$OUT"
python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d .device/a/whl \
  trl==1.16.0 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19 gguf==0.19.0
DATA=$(python -c "from editseq.env import data_dir; print(data_dir() or '')")
[ -n "$DATA" ] || { echo "benchmark data not found: set EDITSEQ_DATA_DIR" >&2; exit 1; }
cp -r "$DATA/humaneval" "$DATA/mbppplus" .device/a/data/
# steps 1-2 of run.sh, here: run.sh skips (resumes) them on the device when their outputs exist
DATA_ONLY=1 experiments/lintseq_smollm2/run.sh "$OUT"
mkdir -p ".device/a/$OUT" && cp "$OUT"/pairs.jsonl "$OUT"/edits* ".device/a/$OUT/"
GGUF=$(python -c "from editseq.models.loading import resolve_model as r; s = r('smollm2-135m'); print(f'{s.path}/{s.gguf_file}')")
split -n 2 -d "$GGUF" .device/gguf.
mv .device/gguf.00 .device/a/ && mv .device/gguf.01 .device/b/
du -sh .device/a .device/b
