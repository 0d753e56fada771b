"""The OpenAI-compatible backend against a real loopback server that serves SmolLM2-135M."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from editseq.models.backend import GenerationConfig
from editseq.models.loading import ModelError
from editseq.models.openai_backend import OpenAIBackend
from editseq.models.transformers_backend import TransformersBackend

PROMPTS = ["def add(a, b):\n    return", "# print the numbers 1 to 3\nfor i in"]


def _send_json(handler: BaseHTTPRequestHandler, code: int, payload: dict[str, Any],
               headers: dict[str, str] | None = None) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(code)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _handler(backend: TransformersBackend, seen: list[dict[str, Any]], name: str = "smollm2-135m",
             key: str | None = None) -> type[BaseHTTPRequestHandler]:
    """Serves ``backend``'s model under ``name``, as ``vllm serve`` does (``--api-key key``: a
    request without it gets vLLM's 401)."""
    lock = threading.Lock()  # one generate at a time: the model is shared

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self._authorized():
                self._reply(200, {"data": [{"id": name}]} if self.path == "/v1/models" else {})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if not self._authorized():
                return
            seen.append(body)
            chat = self.path == "/v1/chat/completions"
            if len(body.get("stop", ())) > 4:  # as OpenAI's API and TGI's default refuse more
                self._reply(422, {"error": "stop: at most 4 sequences"})
                return
            if self.path not in ("/v1/completions", "/v1/chat/completions") or body.get("model") != name:
                self._reply(404, {"error": f"no route {self.path} for {body.get('model')}"})
                return
            config = GenerationConfig(n=1, temperature=body["temperature"], top_p=body["top_p"],
                                      min_p=body.get("min_p"), max_new_tokens=body["max_tokens"],
                                      stop=tuple(body.get("stop", ())), seed=body["seed"])
            prompt = (backend.tokenizer.apply_chat_template(body["messages"], tokenize=False, add_generation_prompt=True)
                      if chat else body["prompt"])
            with lock:
                gen = backend.generate([prompt], config)[0][0]
            choice = {"message": {"role": "assistant", "content": gen.text}} if chat else {"text": gen.text}
            self._reply(200, {"choices": [{"index": 0, **choice, "finish_reason": "stop"}],
                              "usage": {"completion_tokens": gen.tokens}})

        def _authorized(self) -> bool:
            if key is None or self.headers.get("Authorization") == f"Bearer {key}":
                return True
            self._reply(401, {"error": "Unauthorized"})
            return False

        def _reply(self, code: int, payload: dict[str, Any]) -> None:
            _send_json(self, code, payload)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def server(smollm2) -> Iterator[tuple[str, TransformersBackend, list[dict[str, Any]]]]:
    backend = TransformersBackend(*smollm2)
    seen: list[dict[str, Any]] = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(backend, seen))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", backend, seen
    httpd.shutdown()
    httpd.server_close()


def test_greedy_matches_the_local_backend(server) -> None:
    url, local, seen = server
    remote = OpenAIBackend(url, concurrency=2)
    assert remote.served_model == "smollm2-135m"  # discovered from /v1/models
    config = GenerationConfig(n=2, temperature=0, max_new_tokens=8, stop=("\n\n",))
    gens = remote.generate(PROMPTS, config)
    assert [len(g) for g in gens] == [2, 2]
    expected = local.generate(PROMPTS, config)
    assert [[g.text for g in per] for per in gens] == [[g.text for g in per] for per in expected]
    assert all(1 <= g.tokens <= 8 for per in gens for g in per)
    assert seen[-1]["stop"] == ["\n\n"] and seen[-1]["max_tokens"] == 8


def test_greedy_sends_one_request_per_prompt(server) -> None:
    url, _, seen = server
    seen.clear()
    gens = OpenAIBackend(url).generate(PROMPTS, GenerationConfig(n=3, temperature=0, max_new_tokens=4))
    assert len(seen) == 2 and [len(g) for g in gens] == [3, 3]
    assert all(per[0] == per[1] == per[2] for per in gens)


def test_chat_messages_use_the_chat_endpoint(server) -> None:
    """The server applies the model's template: the same text a local chat-templated prompt gets."""
    url, local, seen = server
    messages = [{"role": "user", "content": "Write a Python function that adds two numbers."}]
    config = GenerationConfig(n=1, temperature=0, max_new_tokens=8)
    [[remote]] = OpenAIBackend(url).generate([messages], config)
    assert seen[-1]["messages"] == messages and "prompt" not in seen[-1]
    templated = local.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert remote.text == local.generate([templated], config)[0][0].text


def test_special_tokens_are_asked_for_only_when_needed(server) -> None:
    """Edit sequences need <|diff|> back (vLLM's server drops special tokens by default); other
    requests carry no vLLM-only field that a strict server could refuse."""
    url, _, seen = server
    remote = OpenAIBackend(url)
    remote.generate(PROMPTS[:1], GenerationConfig(n=1, max_new_tokens=2, special_tokens=True))
    assert seen[-1]["skip_special_tokens"] is False and seen[-1]["spaces_between_special_tokens"] is False
    remote.generate(PROMPTS[:1], GenerationConfig(n=1, max_new_tokens=2))
    assert "skip_special_tokens" not in seen[-1] and "spaces_between_special_tokens" not in seen[-1]


def test_each_sample_gets_its_own_seed(server) -> None:
    url, _, seen = server
    remote = OpenAIBackend(url + "/v1", served_model="smollm2-135m")
    seen.clear()
    remote.generate(PROMPTS[:1], GenerationConfig(n=3, temperature=1.0, max_new_tokens=4, min_p=0.05))
    assert len({body["seed"] for body in seen}) == 3
    assert all(body["min_p"] == 0.05 for body in seen)


def test_errors_name_the_url_and_status(server) -> None:
    url, _, _ = server
    remote = OpenAIBackend(url, served_model="other-model")
    with pytest.raises(ModelError, match="HTTP 404"):
        remote.generate(["x"], GenerationConfig(max_new_tokens=1))
    with pytest.raises(ModelError, match="cannot reach the server"):
        OpenAIBackend("http://127.0.0.1:9", served_model="m", retries=0).generate(
            ["x"], GenerationConfig(max_new_tokens=1))


def test_a_reply_without_content_is_an_empty_sample() -> None:
    """A chat reply may carry ``"content": null`` (vLLM's reasoning parsers when the budget ends
    inside the reasoning, OpenAI's refusals): that sample wrote no program. It crashed the run
    with a TypeError traceback."""

    class NullContent(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            _send_json(self, 200, {"choices": [{"index": 0, "finish_reason": "length", "message": {
                "role": "assistant", "content": None, "reasoning_content": "Let me think"}}],
                "usage": {"completion_tokens": 4}})

        def log_message(self, *args: object) -> None:
            pass

    with _serving(NullContent) as url:
        [[gen]] = OpenAIBackend(url, served_model="m").generate([[{"role": "user", "content": "hi"}]],
                                                                GenerationConfig(max_new_tokens=4))
    assert gen.text == "" and gen.tokens == 4


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """The URL of a loopback server answering with ``handler``, for as long as the block runs."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_rate_limited_request_waits_and_a_reply_without_usage_counts_no_tokens() -> None:
    """Was: HTTP 429 (a hosted endpoint's rate limit) ended the run at once, as any 4xx does; it
    is now retried after the server's Retry-After. And a reply whose ``usage`` is null (servers
    that do not count) crashed with an AttributeError traceback; its tokens are now 0."""
    answers: list[float] = []

    class Limited(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            answers.append(time.monotonic())
            if len(answers) == 1:
                _send_json(self, 429, {"error": {"message": "rate limit"}}, {"Retry-After": "1"})
            else:
                _send_json(self, 200, {"choices": [{"index": 0, "text": " 1"}], "usage": None})

        def log_message(self, *args: object) -> None:
            pass

    with _serving(Limited) as url:
        [[gen]] = OpenAIBackend(url, served_model="m", retries=1).generate(["x ="], GenerationConfig(max_new_tokens=2))
    assert (gen.text, gen.tokens) == (" 1", 0)
    assert len(answers) == 2 and answers[1] - answers[0] >= 0.9  # it waited as the server asked


def test_stops_past_a_servers_four_still_stop(server) -> None:
    """Was: completion prompts sent their 6 stop sequences, which OpenAI's API and TGI refuse (at
    most 4). The server gets 4; the text is cut at all of them here."""
    url, local, seen = server
    config = GenerationConfig(n=1, temperature=0, max_new_tokens=12,
                              stop=("@@1", "@@2", "@@3", "@@4", "\n", " range"))
    [[remote]] = OpenAIBackend(url).generate(PROMPTS[1:], config)
    assert seen[-1]["stop"] == ["@@1", "@@2", "@@3", "@@4"]
    assert remote.text == local.generate(PROMPTS[1:], config)[0][0].text
    assert " range" not in remote.text and "\n" not in remote.text


def test_a_server_started_with_an_api_key_takes_openai_api_key(smollm2, tmp_path, shared_data,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: the backend could send a key but nothing gave it one, so a server started with
    ``--api-key`` (vLLM, llama.cpp) or a hosted endpoint answered every run with HTTP 401."""
    from editseq.cli import main

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(TransformersBackend(*smollm2), [], key="sk-test"))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    argv = ["sample", "--model", f"http://127.0.0.1:{httpd.server_address[1]}", "--data", str(shared_data),
            "--task-ids", "HumanEval/2", "--max-new-tokens", "2", "--out", str(tmp_path / "s.jsonl"), "--no-progress"]
    try:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        with pytest.raises(ModelError, match=r"HTTP 401: .*; set OPENAI_API_KEY to the server's key"):
            OpenAIBackend(f"http://127.0.0.1:{httpd.server_address[1]}")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        assert main(argv) == 0
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert len((tmp_path / "s.jsonl").read_text().splitlines()) == 1


def test_batch_size_sets_the_requests_in_flight(server) -> None:
    """--batch-size reached only the transformers backend: a server was sent 8 requests at a
    time whatever it could batch."""
    from editseq.models.loading import BackendOptions, open_backend

    url, _, _ = server
    assert open_backend(url, BackendOptions(batch_size=64)).concurrency == 64
    assert open_backend(url, BackendOptions(batch_size=3)).concurrency == 3


@pytest.mark.parametrize("url", ["http://h:1", "http://h:1/", "http://h:1/v1", "http://h:1/v1/completions",
                                 "http://h:1/v1/chat/completions/"])
def test_a_server_is_named_by_its_address_or_an_endpoints(url: str) -> None:
    """An endpoint's whole address, as servers' docs print it, was taken for the server's:
    requests went to .../v1/completions/v1/models and failed with HTTP 404."""
    assert OpenAIBackend(url, served_model="m").base == "http://h:1/v1"


def test_a_reply_that_is_not_json_names_the_url() -> None:
    """A URL that reaches a web page, not an API (a server's web UI, a proxy's login page,
    answered 200), or a streamed reply, ended the run with a JSONDecodeError traceback."""

    class WebPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = b"<!doctype html><title>llama.cpp</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    with _serving(WebPage) as url, pytest.raises(ModelError, match=(
            r"/v1/models: the reply is not JSON \('<!doctype html><title>llama.cpp</title>'\); "
            r"is the URL an OpenAI-compatible server's")):
        OpenAIBackend(url, retries=0)
