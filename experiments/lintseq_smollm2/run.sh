#!/usr/bin/env bash
# LintSeq vs program fine-tuning of SmolLM2-135M (the paper's tiny-model setting), end to end:
# docstring dataset -> LintSeq x5 -> SFT in both formats, same recipe -> n=50 samples per HumanEval
# and MBPP+ problem at T=1, top-p 0.95 -> sandboxed evaluation -> pass@k-vs-k report.
# Usage: experiments/lintseq_smollm2/run.sh [OUT]    (a GPU is expected; SMOKE=1 for a tiny CPU run)
#   BATCH=N  sequences generated together (default 16; ~800 fills an H100 with this model)
#   BF16=1   train in bfloat16 mixed precision
#   DATA_ONLY=1  stop after the data (steps 1-2; device/prepare.sh makes them on the CPU this way)
#   MODEL=M  the model fine-tuned (default smollm2-135m: the Instruct model, dequantized from Q4_1, the
#            one SmolLM2 offline here; the paper fine-tunes pretrained base models, e.g. a local folder
#            of HuggingFaceTB/SmolLM2-135M)
# Every step resumes or skips when its output is complete, so a run cut off (a machine's per-command
# limit) continues where it stopped when started again.
set -euo pipefail
command -v editseq >/dev/null || { echo "editseq is not on PATH: activate the environment it is installed in (. .venv/bin/activate)" >&2; exit 1; }
OUT=${1:-runs/lintseq_smollm2}
mkdir -p "$OUT"
if [ "${SMOKE:-0}" = 1 ]; then
  # batch 2: the default 8 took 13-15 GB of memory per CPU step with this model's 49k-token vocabulary
  N=2; LIMIT="--limit 2"; STEPS="--max-steps 2 --batch-size 2"; EPOCHS_P=""; EPOCHS_E=""; TOKENS=64; PKG="--package json"
else
  N=50; LIMIT=""; STEPS=""; EPOCHS_P="--epochs 10"; EPOCHS_E="--epochs 2"; TOKENS=512; PKG=""
fi
# 1. (instruction, program) pairs from documented functions of installed packages (offline)
[ -f "$OUT/pairs.jsonl" ] || editseq data docstrings --out "$OUT/pairs.jsonl" $PKG --no-progress
# 2. five LintSeq edit sequences per program (the paper's 5x larger edit-sequence data)
editseq lintseq "$OUT/pairs.jsonl" "$OUT/edits.jsonl" --program-field program --instruction-field instruction --samples 5 --no-progress
[ "${DATA_ONLY:-0}" = 1 ] && exit 0
# 3. the same recipe for both formats (tiny-model lr 3e-4; 10 epochs on programs, 2 on edit sequences)
BF16_FLAG=$([ "${BF16:-0}" = 1 ] && echo --bf16 || true)
[ -f "$OUT/sft-program/editseq_train.json" ] || editseq train sft --model "${MODEL:-smollm2-135m}" --data "$OUT/pairs.jsonl" \
  --format program --lr 3e-4 $EPOCHS_P $STEPS $BF16_FLAG --output-dir "$OUT/sft-program"
[ -f "$OUT/sft-editseq/editseq_train.json" ] || editseq train sft --model "${MODEL:-smollm2-135m}" --data "$OUT/edits.jsonl" \
  --format editseq --lr 3e-4 $EPOCHS_E $STEPS $BF16_FLAG --output-dir "$OUT/sft-editseq"
# 4. repeated sampling and evaluation on HumanEval and MBPP+ (`sample --format editseq` writes the
#    resolved programs, so both formats are evaluated alike, without --resolve-edits)
for fmt in program editseq; do
  for bench in humaneval mbpp+; do
    name="$OUT/${fmt}_${bench//+/plus}"
    editseq sample --model "$OUT/sft-$fmt" --benchmark "$bench" --format "$fmt" --n $N $LIMIT \
      --temperature 1.0 --top-p 0.95 --max-new-tokens $TOKENS --batch-size "${BATCH:-16}" --out "$name.jsonl"
    editseq evaluate "$name.jsonl" --benchmark "$bench" --no-progress
  done
done
# 5. pass@k against k for both formats
editseq report "$OUT"/program_humaneval_results.jsonl "$OUT"/editseq_humaneval_results.jsonl \
  "$OUT"/program_mbppplus_results.jsonl "$OUT"/editseq_mbppplus_results.jsonl \
  --labels program-humaneval,editseq-humaneval,program-mbpp+,editseq-mbpp+ --k 1,5,10,50 --out "$OUT/report"
