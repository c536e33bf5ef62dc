"""The errors a user meets first ("First contact"): each one line, naming the way out.

Gateway-wrapped "previous response not found", SSE error bodies, the 401 that keeps the
server's words, a connection dropped mid-request (and whether the POST is re-sent), balance
exhausted on a 429, and the unknown model.  The mapping is tested directly; the client runs
against the stand-in or a replay server over real loopback.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from agcloud_magic.errors import (
    AuthenticationError,
    ConnectionDroppedError,
    ModelNotFoundError,
    PreviousResponseNotFoundError,
    QuotaExceededError,
    RateLimitError,
    RequestTimeoutError,
    ResponseFailedError,
    ServerError,
    request_id_from,
    status_error,
)
from agcloud_magic.http.client import Client
from agcloud_magic.http.retry import RetryPolicy
from agcloud_magic.http.settings import Settings
from agcloud_magic.standin import serve

from .gateway_support import HANG_UP, RESET, Capture, ReplayServer, capture

KEY = "sk-test-first-contact-0123456789"
FAST_RETRY = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.02)
NEW_HINT = "start afresh with --new (or %agcloud new)."


def body(**error) -> bytes:
    return json.dumps({"error": error}).encode()


def litellm(inner: dict, outer_code: str = "400") -> bytes:
    """A LiteLLM error body: the upstream's JSON inside its own message string."""
    message = (f"litellm.BadRequestError: OpenAIException - {json.dumps({'error': inner})}\n\n"
               "LiteLLM: model group 'x' failed with the error above.")
    return body(message=message, type="invalid_request_error", param=None, code=outer_code)


def make_client(base_url: str, **kwargs) -> Client:
    kwargs.setdefault("retry_policy", FAST_RETRY)
    model = kwargs.pop("model", "echo")
    return Client(Settings(api_key=KEY, base_url=base_url, model=model), **kwargs)


def run(client: Client, body: dict, use_async: bool):
    if use_async:
        return asyncio.run(client.acreate(body))
    return client.create(body)


def posts(srv) -> int:
    return sum(1 for r in srv.requests if r.method == "POST")


@pytest.fixture()
def gateway() -> Iterator[ReplayServer]:
    server = ReplayServer()
    yield server
    server.close()


# -- 1. previous response not found, wherever it shows ------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        # the upstream code, nested in LiteLLM's message, under a top-level code "400"
        litellm({"message": "gone", "code": "previous_response_not_found"}),
        # only the upstream's words, nested
        litellm({"message": "Previous response with id 'resp_abc' not found.", "code": None}),
        # only the words, flat (a gateway that kept the message and dropped the code)
        body(message="Previous response with id 'resp_abc' not found.", code="400"),
        # the code in the outer message text, not as JSON
        body(message="upstream said previous_response_not_found", code="400"),
        # nested twice: a gateway in front of a gateway
        body(message="outer - " + litellm({"message": "x", "code": "previous_response_not_found"})
             .decode(), code="400"),
    ],
)
@pytest.mark.parametrize("status", [400, 404])
def test_previous_response_not_found_is_recognised_wherever_it_appears(raw, status):
    error = status_error(status, raw)
    assert type(error) is PreviousResponseNotFoundError
    assert str(error).endswith(NEW_HINT) and error.status == status


def test_a_nested_message_is_quoted_unwrapped():
    raw = litellm({"message": "input is too long", "code": "context_length_exceeded",
                   "param": "input"})
    text = str(status_error(400, raw))
    assert text.startswith("Request rejected (400) (parameter input): litellm.BadRequestError: "
                           "OpenAIException - input is too long LiteLLM: model group")
    assert '{"error"' not in text


# -- 2. an error body sent as SSE ---------------------------------------------------------


SSE_ERROR = (b'data: {"error": {"message": "Error processing stream start", "type": '
             b'"internal_server_error", "param": null, "code": "500"}}\n\ndata: [DONE]\n\n')


@pytest.mark.parametrize(
    ("raw", "headers"),
    [
        (SSE_ERROR, {"content-type": "text/event-stream; charset=utf-8"}),
        (SSE_ERROR, {}),
        (b"event: error\r\n" + SSE_ERROR.replace(b"\n", b"\r\n"), {}),
    ],
)
def test_an_sse_error_body_gives_its_message(raw, headers):
    error = status_error(500, raw, headers)
    assert type(error) is ServerError
    assert str(error) == (
        "Server error (500) after retries: try again shortly. Server said: Error processing "
        "stream start"
    )
    assert error.error_type == "internal_server_error" and error.code == "500"


@pytest.mark.parametrize("use_async", [False, True])
def test_an_error_in_a_200_stream_without_a_type_fails_the_response(gateway, use_async):
    raw = capture("litellm_mock_stream")
    gateway.push(Capture(200, "OK", raw.headers, raw.body))
    with pytest.raises(ResponseFailedError) as info:
        run(make_client(gateway.base_url), {"input": "x", "stream": True}, use_async)
    assert str(info.value) == "The response failed (500): Error processing stream start"


# -- 3. the 401 keeps the server's explanation --------------------------------------------


def test_401_keeps_the_hint_and_adds_what_the_server_said():
    raw = body(message="Incorrect API key provided: sk-test-own-secret-key-xyz.",
               code="invalid_api_key")
    error = status_error(401, raw, secret="sk-test-own-secret-key-xyz")
    assert str(error) == (
        "Authentication failed (401): check AGCLOUD_API_KEY (or run %agcloud login); the key may "
        "be missing, mistyped, revoked or expired. Server said: Incorrect API key provided: "
        "[redacted key]."
    )


def test_401_from_a_gateway_says_the_upstream_key_may_be_the_one_refused():
    raw = litellm({"message": "Incorrect API key provided: sk-re***.", "code": "invalid_api_key"},
                  outer_code="401")
    text = str(status_error(401, raw))
    assert "check AGCLOUD_API_KEY" in text
    assert "behind a gateway, its own upstream key may be the one refused" in text
    assert "Server said: litellm.BadRequestError: OpenAIException - Incorrect API key " in text


def test_401_from_the_stand_in_over_http_quotes_it_and_never_the_key():
    with serve(api_key="sk-test-the-right-one-123456") as srv, pytest.raises(
        AuthenticationError
    ) as info:
        make_client(srv.base_url).create({"input": "x", "stream": True})
    assert "Server said: " in str(info.value) and KEY not in str(info.value)
    assert KEY[8:] not in str(info.value) and KEY not in repr(info.value)


# -- 4. a connection dropped after the request went out: said so, and not re-sent ---------


@pytest.mark.parametrize("drop", [HANG_UP, RESET])
@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("stream", [True, False])
def test_a_drop_after_the_request_went_out_is_not_re_sent(gateway, drop, use_async, stream):
    gateway.push(drop, capture("litellm_bridge_nostream"))
    with pytest.raises(ConnectionDroppedError) as info:
        run(make_client(gateway.base_url), {"input": "x", "stream": stream}, use_async)
    assert len(gateway.bodies) == 1  # a retry could run (and bill) the request twice
    assert str(info.value).startswith(
        f"The server at {gateway.base_url} closed the connection mid-request ("
    )
    assert str(info.value).endswith(
        "); not re-sent, since it may already have run (and billed) it: run again."
    )
    assert "Could not connect" not in str(info.value)


@dataclass(frozen=True)
class _OpenOnRetry(RetryPolicy):
    """The real policy; when it grants a retry it first opens the server (the test's clock)."""

    on_retry: Callable[[], None] = lambda: None

    def delay_for(self, attempt: int, **kwargs) -> float | None:
        delay = super().delay_for(attempt, **kwargs)
        if delay is not None:
            self.on_retry()
        return delay


@pytest.mark.parametrize("use_async", [False, True])
def test_a_connection_refused_before_anything_was_sent_is_retried(use_async):
    server = ReplayServer(listening=False).push(capture("litellm_bridge_nostream"))
    try:
        policy = _OpenOnRetry(max_retries=2, base_delay=0.01, on_retry=server.listen)
        result = run(make_client(server.base_url, retry_policy=policy),
                     {"input": "x", "stream": False}, use_async)
    finally:
        server.close()
    assert result.status == "completed" and len(server.bodies) == 1


def test_the_policy_re_sends_only_what_never_went_out():
    policy = RetryPolicy(max_retries=2, base_delay=0.5, jitter=0.0)
    assert policy.delay_for(0, transport_error=True) == 0.5
    assert policy.delay_for(0, transport_error=True, request_sent=True) is None


@pytest.mark.parametrize("use_async", [False, True])
def test_no_answer_in_time_is_not_re_sent_either(use_async):
    with serve() as srv:
        srv.slow_first_byte(1.0, times=3)
        with pytest.raises(RequestTimeoutError) as info:
            run(make_client(srv.base_url, timeout=0.3), {"input": "x", "stream": True},
                use_async)
        assert posts(srv) == 1
    assert "not re-sent" in str(info.value)


# -- 5. balance exhausted on a 429: not retried, and said directly -------------------------


@pytest.mark.parametrize(
    "message",
    [
        "Your account balance is exhausted, please recharge.",
        "Your credit balance is too low to access the API.",
        "You exceeded your current quota, please check your plan and billing details.",
        "Billing hard limit reached.",
    ],
)
def test_a_429_about_money_is_a_quota_error(message):
    error = status_error(429, body(message=message, type="requests", code=None))
    assert type(error) is QuotaExceededError
    assert str(error).startswith("Quota or balance exhausted (429): top up")


def test_a_429_about_a_per_minute_quota_stays_a_rate_limit():
    raw = body(message="Quota exceeded for metric: requests per minute. Try again in 20s.")
    assert type(status_error(429, raw)) is RateLimitError


@pytest.mark.parametrize("use_async", [False, True])
def test_a_429_balance_exhausted_is_not_retried(gateway, use_async):
    raw = body(message="Your account balance is exhausted, please recharge.", type="requests",
               code=None)
    gateway.push(Capture(429, "Too Many Requests", [("content-type", "application/json")], raw))
    with pytest.raises(QuotaExceededError) as info:
        run(make_client(gateway.base_url), {"input": "x", "stream": True}, use_async)
    assert len(gateway.bodies) == 1
    assert "retrying will not help" in str(info.value)


# -- 6. the unknown model -----------------------------------------------------------------


@pytest.mark.parametrize("use_async", [False, True])
def test_an_unknown_model_names_it_and_how_to_list_models(use_async):
    with serve() as srv:
        base_url = srv.base_url
        srv.fail_next(404, code="model_not_found", message=(
            "The model `no-such-model` does not exist or you do not have access to it."))
        with pytest.raises(ModelNotFoundError) as info:
            run(make_client(srv.base_url, model="no-such-model"),
                {"input": "x", "stream": True}, use_async)
        assert posts(srv) == 1
    assert str(info.value) == (
        "Unknown model 'no-such-model' (404): the server does not offer it to this key. "
        f"%agcloud models (or GET {base_url}/models) lists the models; choose one with --model or "
        "%agcloud config model=NAME."
    )


@pytest.mark.parametrize(
    ("status", "raw", "named"),
    [
        (404, body(message="The model `gpt-9` does not exist or you do not have access to it.",
                   code="model_not_found"), "Unknown model 'gpt-9' (404)"),
        (400, body(message="/responses: Invalid model name passed in model=gpt-9. Call "
                   "`/v1/models` to view available models for your key.", code="400"),
         "Unknown model 'gpt-9' (400)"),
        (404, body(message="whatever", code="model_not_found"), "Unknown model (404)"),
    ],
)
def test_unknown_model_bodies(status, raw, named):
    error = status_error(status, raw, base_url="https://gw.example/v1")
    assert type(error) is ModelNotFoundError and error.status == status
    assert str(error).startswith(named + ": the server does not offer it to this key. ")
    assert "GET https://gw.example/v1/models) lists the models" in str(error)


def test_the_model_named_is_the_one_sent():
    raw = body(message="The model `x` does not exist.", code="model_not_found")
    assert str(status_error(404, raw, model="mine")).startswith("Unknown model 'mine' (404)")


@pytest.mark.parametrize("use_async", [False, True])
def test_the_model_in_the_request_body_is_the_one_named(use_async):
    with serve() as srv:
        srv.fail_next(404, code="model_not_found", message="No such model.")
        with pytest.raises(ModelNotFoundError) as info:
            run(make_client(srv.base_url), {"model": "typo-model", "input": "x"}, use_async)
    assert str(info.value).startswith("Unknown model 'typo-model' (404)")


# -- the request id, from the header each gateway uses ------------------------------------


@pytest.mark.parametrize(
    "name", ["x-request-id", "request-id", "x-litellm-call-id", "X-Request-ID", "apim-request-id"]
)
def test_the_request_id_comes_from_any_gateway_header(name):
    assert request_id_from({name: "id-1"}) == "id-1"
    assert status_error(500, b"", {name: "id-1"}).request_id == "id-1"


def test_x_request_id_wins_and_none_when_absent():
    assert request_id_from({"x-litellm-call-id": "b", "x-request-id": "a"}) == "a"
    assert request_id_from({}) is None and request_id_from(None) is None


# -- unwrapping a gateway's quoted upstream error, exactly ---------------------------------


def _nested(levels: int, core: str = "core") -> str:
    """A message quoting an error that quotes an error ... ``levels`` deep."""
    message = core
    for level in range(levels):
        message = f"L{level} - " + json.dumps({"error": {"message": message, "code": f"c{level}"}})
    return message


def test_unwrap_replaces_each_quoted_error_by_its_message():
    from agcloud_magic.errors import _unwrap

    inner: list = []
    text = ('gateway {not json} says {"a": 1} and {"error": {"message": "first", "code": "x"}} '
            'then {"error": {"code": "y"}} end')
    assert _unwrap(text, inner) == 'gateway {not json} says {"a": 1} and first then  end'
    assert [e["code"] for e in inner] == ["x", "y"]
    assert _unwrap('double {{"error": {"message": "in"}} end', []) == "double {in end"


def test_unwrap_goes_four_levels_deep_and_no_further():
    from agcloud_magic.errors import _unwrap

    inner: list = []
    assert _unwrap(_nested(4), inner) == "L3 - L2 - L1 - L0 - core"
    assert [e["code"] for e in inner] == ["c3", "c2", "c1", "c0"]
    inner = []
    five = _unwrap(_nested(5), inner)
    assert five.startswith("L4 - L3 - L2 - L1 - L0 - {") and '"core"' in five
    assert len(inner) == 4


def test_unwrap_leaves_a_message_over_20000_characters_as_it_is():
    from agcloud_magic.errors import _unwrap

    quoted = json.dumps({"error": {"message": "inner"}})
    exact = "x" * (20_000 - len(quoted)) + quoted
    inner: list = []
    assert _unwrap(exact, inner) == "x" * (20_000 - len(quoted)) + "inner"
    assert _unwrap("x" + exact, []) == "x" + exact
    assert _unwrap("no braces at all", inner) == "no braces at all"


# -- reading error bodies of every shape, exactly ------------------------------------------

SSE = {"content-type": "text/event-stream"}


@pytest.mark.parametrize(
    ("status", "raw", "headers", "expected"),
    [
        # Not UTF-8: read with replacement characters, never a decoding error.
        (400, b'{"error": {"message": "bad \xff byte"}}', {},
         "Request rejected (400): bad \ufffd byte"),
        # SSE known by its content type, though its first line is a comment.
        (400, b': keep-alive\n\ndata: {"error": {"message": "from sse"}}\n\n', SSE,
         "Request rejected (400): from sse"),
        # SSE known by its first line, after blank lines, with no content type.
        (400, b'\n\ndata: {"error": {"message": "sniffed"}}\n\ndata: [DONE]\n\n', {},
         "Request rejected (400): sniffed"),
        # "error" as a plain string; a top-level "message"; JSON that is not an object.
        (400, b'{"error": "a plain string"}', {}, "Request rejected (400): a plain string"),
        (400, b'{"message": "top level"}', {}, "Request rejected (400): top level"),
        (400, b'{"error": {"code": "x"}, "message": "beside"}', {},
         "Request rejected (400): beside"),
        (400, b"[1, 2]", {}, "Request rejected (400): [1, 2]"),
        (400, b"", {}, "Request rejected (400): no details given"),
        # The parameter the server names.
        (400, b'{"error": {"message": "too hot", "param": "temperature"}}', {},
         "Request rejected (400) (parameter temperature): too hot"),
        # 402 is always money; a 403 is money only when its words say so.
        (400, b'{"error": {"code": "x"}}', {}, 'Request rejected (400): {"error": {"code": "x"}}'),
        # SSE data without the space after the colon; a line that is not JSON is skipped.
        (400, b'data:{"error": {"message": "tight"}}\n\n', SSE, "Request rejected (400): tight"),
        (400, b'data: not json\n\ndata: {"error": {"message": "second"}}\n\n', SSE,
         "Request rejected (400): second"),
        # The code alone says quota, whatever the words and the status; so do a 403's words.
        (400, b'{"error": {"message": "no", "code": "insufficient_quota"}}', {},
         "Quota or balance exhausted (400): top up or raise the plan limit in the AGCloud "
         "dashboard; retrying will not help. Server said: no"),
        (429, b'{"error": {"message": "stop", "code": "insufficient_quota"}}', {},
         "Quota or balance exhausted (429): top up or raise the plan limit in the AGCloud "
         "dashboard; retrying will not help. Server said: stop"),
        (403, b'{"error": {"message": "credit balance too low"}}', {},
         "Quota or balance exhausted (403): top up or raise the plan limit in the AGCloud "
         "dashboard; retrying will not help. Server said: credit balance too low"),
        (402, b'{"error": {"message": "pay up"}}', {},
         "Quota or balance exhausted (402): top up or raise the plan limit in the AGCloud "
         "dashboard; retrying will not help. Server said: pay up"),
        (403, b'{"error": {"message": "not for this model"}}', {},
         "Permission denied (403): this key may not use this model or route. Server said: not "
         "for this model"),
    ],
)
def test_error_bodies_of_every_shape(status, raw, headers, expected):
    assert str(status_error(status, raw, headers)) == expected


def test_an_unknown_model_message_cuts_a_long_name_and_finds_the_route():
    long_name = "m" * 130
    error = status_error(404, body(message="nope", code="model_not_found"), {},
                         model=long_name, base_url="https://gw.example/v1/")
    assert str(error).startswith(f"Unknown model '{'m' * 119}…' (404)")
    assert "GET https://gw.example/v1/models)" in str(error)
    error = status_error(404, body(message="nope", code="model_not_found"), {}, model="x")
    assert "GET $AGCLOUD_BASE_URL/models)" in str(error)
