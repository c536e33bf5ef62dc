"""Every one-line error of the transport and of a body that is not the API's, word for word:
what happened, which clock ran out, whether it was re-sent, what to do."""

from __future__ import annotations

import httpx
import pytest

from agcloud_magic.errors import (
    AnswerTooLargeError,
    ConnectionDroppedError,
    ConnectionFailedError,
    DeadlineExceededError,
    RequestTimeoutError,
    ServerDataError,
)
from agcloud_magic.http.failures import NOT_SENT, Failures
from agcloud_magic.http.settings import Settings
from agcloud_magic.wire.result import Result

URL = "http://127.0.0.1:9/v1"
FAIL = Failures(Settings(api_key="sk-test-failures-0123456789", base_url=URL, timeout=7,
                         connect_timeout=3, deadline=50, max_answer_bytes=8 * 2**20))


def _response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


def test_a_connect_timeout_names_the_connect_clock():
    error = FAIL.transport(httpx.ConnectTimeout("slow"))
    assert isinstance(error, ConnectionFailedError)
    assert str(error) == (f"Could not connect to {URL} within 3 s (the connect timeout): check "
                          "the network and AGCLOUD_BASE_URL.")


def test_a_read_timeout_names_the_silence_and_says_it_was_not_re_sent():
    error = FAIL.transport(httpx.ReadTimeout("slow"))
    assert type(error) is RequestTimeoutError
    assert str(error) == (
        f"No answer from {URL} within 7 s (timeout: the longest silence allowed); not re-sent, "
        "since the server may still be running it: try again, or raise it "
        "(%agcloud config timeout=120)."
    )


@pytest.mark.parametrize("exc", [httpx.PoolTimeout("busy"), httpx.WriteTimeout("slow")])
def test_a_timeout_before_the_request_went_out_does_not_say_not_re_sent(exc):
    assert isinstance(exc, NOT_SENT)
    assert str(FAIL.transport(exc)) == (
        f"No answer from {URL} within 7 s (timeout: the longest silence allowed): try again, "
        "or raise it (%agcloud config timeout=120)."
    )


def test_a_drop_after_sending_and_a_refused_connection():
    dropped = FAIL.transport(httpx.RemoteProtocolError("eof"))
    assert type(dropped) is ConnectionDroppedError
    assert str(dropped) == (
        f"The server at {URL} closed the connection mid-request (RemoteProtocolError); not "
        "re-sent, since it may already have run (and billed) it: run again."
    )
    refused = FAIL.transport(httpx.ConnectError("refused"))
    assert type(refused) is ConnectionFailedError
    assert str(refused) == (
        f"Could not connect to {URL} (ConnectError): check the network and AGCLOUD_BASE_URL "
        "(%agcloud offline starts a local stand-in)."
    )


def test_any_transport_failure_past_the_deadline_is_the_deadline_s():
    error = FAIL.transport(httpx.ReadTimeout("slow"), deadline_passed=True)
    assert type(error) is DeadlineExceededError and error.partial is None


@pytest.mark.parametrize("partial", [None, Result(text="so far")])
def test_the_deadline_line_says_whether_a_partial_answer_is_kept(partial):
    error = FAIL.deadline(partial)
    kept = "" if partial is None else "; the partial answer is kept"
    assert str(error) == (
        f"The request to {URL} took longer than its deadline of 50 s (deadline: the whole "
        f"request, however steadily the server sends){kept}. Try again, or raise it "
        "(%agcloud config deadline=1800)."
    )
    assert error.partial is partial


def test_a_stall_too_large_and_undecodable_keep_their_partial():
    partial = Result(text="so far")
    stalled = FAIL.stalled(partial)
    assert type(stalled) is RequestTimeoutError and stalled.partial is partial
    assert str(stalled) == (
        "The stream stalled for more than 7 s (timeout: the longest silence allowed); the "
        "partial answer is kept. Run again, or raise it (%agcloud config timeout=120)."
    )
    large = FAIL.too_large(partial)
    assert type(large) is AnswerTooLargeError and large.partial is partial
    assert str(large) == (
        "The answer passed 8 MB and was stopped there; the part shown is kept. If it is meant "
        "to be that long, raise the cap (%agcloud config max_answer_mb=256)."
    )
    broken = FAIL.not_decodable(ValueError("bad\nheader " + "x" * 300), partial)
    assert type(broken) is ServerDataError and broken.partial is partial
    message = str(broken)
    assert message.startswith(f"The answer from {URL} did not decode (bad header xxx")
    assert message.endswith(
        "…): the server or a proxy sent a broken compressed body; what arrived before it is "
        "kept. Run again; if it persists, the gateway is at fault.")
    quoted = message.split("did not decode (", 1)[1].split("): the server", 1)[0]
    assert len(quoted) == 120  # the library's words cut to 120 characters


def test_a_redirect_names_its_target_cut_to_one_short_line():
    error = FAIL.redirect(_response(302, location="https://elsewhere.example/" + "p" * 400))
    message = str(error)
    assert type(error) is ServerDataError
    target = message.split("(a redirect to ", 1)[1].split("), which", 1)[0]
    assert len(target) == 200 and target.endswith("…")
    assert message.endswith(
        "), which is not followed, so the key goes only where you set: set AGCLOUD_BASE_URL "
        "(or %agcloud config base_url=...) to the address it names.")
    assert "(a redirect to nowhere given)" in str(FAIL.redirect(_response(301)))


def test_a_body_that_is_not_the_api_names_what_came_and_its_type():
    error = FAIL.not_the_api(_response(200, **{"content-type": "text/html"}), "an HTML page")
    assert str(error) == (
        f"The server at {URL} answered 200 with an HTML page (text/html), not the Responses "
        "API: check the base URL (it should end in /v1, e.g. https://aiandgpu.com/v1)."
    )
    bare = FAIL.not_the_api(_response(200), "something")
    assert "(no content type)" in str(bare)
    odd = FAIL.not_the_api(_response(200, **{"content-type": "x/" + "y" * 200}), "something")
    kind = str(odd).split("something (", 1)[1].split("), not the", 1)[0]
    assert len(kind) == 80  # a server's content type cut to 80 characters
