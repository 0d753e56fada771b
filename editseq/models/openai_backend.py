"""Sampling from an OpenAI-compatible server (vLLM, TGI, llama.cpp): ``/v1/completions`` for text
prompts, ``/v1/chat/completions`` for chat messages (the server applies the model's template).

One request per sample (``n=1``) so every generation gets its own exact token count
(``usage.completion_tokens``) and its own seed; greedy decoding sends one request per prompt and
copies it. Requests run ``concurrency`` at a time, which lets the server batch them. Edit
sequences need their ``<|diff|>`` tokens back, which vLLM's server drops by default, so requests
ask it (and servers sharing its extensions) to keep special tokens. Only the standard library is
used, so this backend needs no extra.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from editseq.models.backend import Generation, GenerationConfig, Prompt, sample_seed
from editseq.models.loading import ModelError, PromptRefused, PromptTooLong
from editseq.text import cut_at_stop

MAX_SERVER_STOPS = 4


class OpenAIBackend:
    """``Backend`` over an OpenAI-compatible HTTP server at ``url`` (with or without ``/v1``);
    ``api_key`` (default: ``$OPENAI_API_KEY``, as OpenAI's own clients read it) for a server
    started with one (``vllm serve --api-key``) or a hosted endpoint."""

    def __init__(self, url: str, served_model: str | None = None, concurrency: int = 8,
                 timeout: float = 600.0, retries: int = 2, api_key: str | None = None) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        # an endpoint's whole address (what a server's docs show) names the same server
        self.base = url.rstrip("/").removesuffix("/completions").removesuffix("/chat").removesuffix("/v1") + "/v1"
        self.name = url
        self.concurrency = concurrency
        self.timeout = timeout
        self.retries = retries
        self.headers = {"Content-Type": "application/json"}
        api_key = api_key or os.environ.get("OPENAI_API_KEY")
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self.served_model = served_model or self._first_model()

    def generate(self, prompts: list[Prompt], config: GenerationConfig) -> list[list[Generation]]:
        """``config.n`` generations per prompt, each one request (greedy: one per prompt)."""
        draws = config.draws
        jobs = [(p, k) for p in prompts for k in range(draws)]
        with ThreadPoolExecutor(self.concurrency) as pool:
            flat = list(pool.map(lambda i: self._one(*jobs[i], config, i // draws), range(len(jobs))))
        return [flat[i * draws:(i + 1) * draws] * (config.n // draws) for i in range(len(prompts))]

    def _one(self, prompt: Prompt, index: int, config: GenerationConfig, place: int) -> Generation:
        """Sample ``index`` of ``prompt``, the ``place``-th prompt of the call (named in a refusal)."""
        chat = not isinstance(prompt, str)
        body: dict[str, Any] = {"model": self.served_model, "n": 1,
                                "max_tokens": config.max_new_tokens,
                                "temperature": config.temperature, "top_p": config.top_p,
                                "seed": sample_seed(config.seed, json.dumps(prompt) if chat else prompt, index)}
        body.update({"messages": prompt} if chat else {"prompt": prompt})
        if config.min_p is not None:
            body["min_p"] = config.min_p  # a vLLM / llama.cpp extension
        if config.stop:  # OpenAI's API and TGI (--max-stop-sequences) take 4; all are applied below
            body["stop"] = list(config.stop[:MAX_SERVER_STOPS])
        if config.special_tokens:  # vLLM extensions: keep <|diff|>, and no space after it
            body.update(skip_special_tokens=False, spaces_between_special_tokens=False)
        path = "/chat/completions" if chat else "/completions"
        reply = self._request(path, body, place)
        try:
            choice = reply["choices"][0]
            text = choice["message"]["content"] if chat else choice["text"]
            if text is None:  # no content (a reasoning model out of budget, a refusal): no program
                text = ""
            if not isinstance(text, str):
                raise TypeError(f"text is {type(text).__name__}")
            # a server that does not count sends "usage": null (or no completion_tokens)
            tokens = int((reply.get("usage") or {}).get("completion_tokens") or 0)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ModelError(f"{self.base}{path}: unexpected reply {str(reply)[:200]!r}") from exc
        return Generation(cut_at_stop(text, config.stop), tokens)

    def _first_model(self) -> str:
        reply = self._request("/models", None)
        try:
            return str(reply["data"][0]["id"])
        except (KeyError, IndexError, TypeError) as exc:
            raise ModelError(f"{self.base}/models lists no model; pass --served-model") from exc

    def _request(self, path: str, body: dict[str, Any] | None, place: int | None = None) -> dict[str, Any]:
        """GET (``body`` None) or POST JSON; retries connection errors, HTTP 5xx and a rate
        limit (429, after the server's ``Retry-After`` where it sends one, up to a minute),
        never another 4xx (the request itself is wrong: retried, it fails the same). A request
        for the ``place``-th prompt of a call that the server refuses as invalid (HTTP 400, 413 or
        422: vLLM, llama.cpp and TGI refuse a prompt over the context so) is ``PromptRefused``."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base + path, data=data, headers=self.headers)
        attempt = 0
        while True:
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    text = response.read().decode("utf-8", "replace")
                try:
                    return json.loads(text)
                except ValueError:  # a web page (a UI, a proxy's login) or a stream, not the API
                    raise ModelError(f"{self.base}{path}: the reply is not JSON ({text[:200]!r}); is the URL an "
                                     "OpenAI-compatible server's (http://host:port)?") from None
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode("utf-8", "replace")[:300]
                if exc.code == 401:
                    detail += "; set OPENAI_API_KEY to the server's key"
                if place is not None and exc.code in (400, 413, 422):
                    refusal = PromptTooLong if _CONTEXT_REFUSAL.search(detail) else PromptRefused
                    raise refusal(f"{self.base}{path}: HTTP {exc.code}: {detail}", place) from exc
                if (exc.code < 500 and exc.code != 429) or attempt == self.retries:
                    raise ModelError(f"{self.base}{path}: HTTP {exc.code}: {detail}") from exc
                wait = _retry_after(exc.headers.get("Retry-After"))
                if wait is not None:
                    time.sleep(wait)
                    attempt += 1
                    continue
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if attempt == self.retries:
                    raise ModelError(f"{self.base}{path}: cannot reach the server ({exc}); "
                                     "is it running, and is the URL right?") from exc
            time.sleep(2 ** attempt)
            attempt += 1


# How servers refuse a prompt over the model's context (OpenAI and vLLM: "maximum context length",
# "longer than the maximum model length"; llama.cpp: "exceeds the available context size"; TGI:
# "`inputs` tokens + `max_new_tokens` must be <= N", "must have less than N tokens"): such a
# refusal is a ``PromptTooLong``, which ``mtpb sample`` counts as a context overflow, as for a
# local model, where another refusal (an option the server lacks) stops the run
_CONTEXT_REFUSAL = re.compile(r"context.length|context size|maximum model length|exceed_context|"
                              r"prompt is too long|must be <= ?\d+|must have less than \d+ tokens", re.IGNORECASE)


def _retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (its delay form; a date or none: None), at
    most a minute."""
    try:
        return min(max(float(value), 0.0), 60.0) if value else None
    except ValueError:
        return None
