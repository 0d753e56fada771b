"""Training: instruction fine-tuning (``sft``) and tiny code-LM pretraining (``pretrain``).

Both run on the transformers ``Trainer`` (accelerate underneath, so ``accelerate launch`` or
``torchrun`` spreads a run over GPUs, or over CPU processes), write checkpoints that ``editseq sample --model DIR`` loads, and resume from the
newest ``checkpoint-N`` in the output folder when rerun. Heavy imports happen inside functions.
"""
