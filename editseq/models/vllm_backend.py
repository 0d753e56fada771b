"""Sampling with vLLM on a GPU (optional: ``pip install 'editseq[vllm]'`` where CUDA is available).

vLLM batches and schedules all requests itself, so every prompt of a call goes in one ``generate``
with ``n`` samples each; the seed is per request, derived like the HTTP backend's, so a prompt's
samples do not depend on the other prompts in the call. Prompts are tokenized as the transformers
backend tokenizes them (one BOS, also before a chat template's text).
"""

from __future__ import annotations

from typing import Any

from editseq.models.backend import Generation, GenerationConfig, adds_bos, sample_seed
from editseq.models.loading import ModelError, check_context, resolve_model
from editseq.text import cut_at_stop


class VLLMBackend:
    """``Backend`` over ``vllm.LLM``; ``engine_options`` go to its constructor (e.g. ``tensor_parallel_size``)."""

    def __init__(self, model: str, **engine_options: Any) -> None:
        try:
            import vllm
        except ImportError as exc:
            raise ModelError("the vllm backend needs vLLM and a CUDA GPU: pip install 'editseq[vllm]' "
                             "(or use --backend transformers)") from exc
        source = resolve_model(model)
        path = source.path if source.gguf_file is None else f"{source.path}/{source.gguf_file}"
        self._vllm = vllm
        self.name = model
        self.llm = vllm.LLM(model=path, **{"seed": 0, **engine_options})
        self.tokenizer = self.llm.get_tokenizer()

    def generate(self, prompts: list[str], config: GenerationConfig) -> list[list[Generation]]:
        """``config.n`` generations per prompt, in prompt order; greedy decodes each prompt once
        (vLLM refuses ``n`` > 1 at temperature 0) and copies it."""
        params = [self._vllm.SamplingParams(
            n=config.draws, temperature=config.temperature, top_p=config.top_p,
            min_p=config.min_p or 0.0, max_tokens=config.max_new_tokens, stop=list(config.stop),
            seed=sample_seed(config.seed, prompt, 0), skip_special_tokens=False,
            spaces_between_special_tokens=False)
            for prompt in prompts]
        tokens = token_prompts(self.tokenizer, prompts)
        # vLLM's own refusal (a ValueError) names no prompt
        check_context([len(p["prompt_token_ids"]) for p in tokens], self.llm.llm_engine.model_config.max_model_len,
                      self.name, "max_model_len")
        outputs = self.llm.generate(tokens, params, use_tqdm=False)
        gens = [[Generation(cut_at_stop(c.text, config.stop), len(c.token_ids)) for c in out.outputs]
                for out in outputs]
        return [g * (config.n // config.draws) for g in gens]


def token_prompts(tokenizer: Any, prompts: list[str]) -> list[dict[str, list[int]]]:
    """vLLM's token prompts of ``prompts``, tokenized as the transformers backend tokenizes them:
    given text, vLLM adds BOS to every prompt, a second one before a chat template's own
    (vllm-project/vllm#9519), which the model never saw in training."""
    return [{"prompt_token_ids": tokenizer(p, add_special_tokens=adds_bos(tokenizer, [p]))["input_ids"]}
            for p in prompts]
