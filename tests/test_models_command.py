"""`%agcloud models` lists what the server offers, and an unknown model points there."""

from __future__ import annotations

import pytest

from agcloud_magic.http.client import Client
from agcloud_magic.http.settings import Settings
from agcloud_magic.standin import serve
from agcloud_magic.standin.catalog import DEFAULT_MODELS

from .magic_support import KEY, run_cell


def test_client_models_lists_the_ids_the_server_offers():
    with serve(models=["echo", "gpt-4o-mini", "house-model"]) as srv:
        client = Client(Settings(api_key=KEY, base_url=srv.base_url))
        try:
            assert client.models() == ["echo", "gpt-4o-mini", "house-model"]
        finally:
            client.close()
        (request,) = [r for r in srv.requests if r.method == "GET"]
        assert request.path.endswith("/v1/models")


def test_agcloud_models_lists_them_and_marks_the_one_in_use(ip, srv):
    run = run_cell(ip, "%agcloud models")
    assert run.error is None, run.stderr
    lines = run.stdout.splitlines()
    for model in DEFAULT_MODELS:
        assert any(line.split()[-1] == model for line in lines[1:]), model
    assert "* gpt-4o-mini" in run.stdout  # the default model, in use
    assert lines[0].startswith(f"{len(DEFAULT_MODELS)} models at {srv.base_url}")
    assert KEY not in run.stdout


def test_a_typo_in_the_model_is_one_line_naming_it_and_the_command(ip, srv):
    run = run_cell(ip, "%%respond -m gpt-4o-mnii\nhello")
    assert "Unknown model 'gpt-4o-mnii' (404)" in run.stderr + run.stdout
    assert f"%agcloud models (or GET {srv.base_url}/models) lists" in run.stderr + run.stdout
    assert "Traceback" not in run.stderr + run.stdout


def test_agcloud_models_when_the_server_refuses_is_one_line(ip, srv):
    srv.fail_next(401, code="invalid_api_key", message="Incorrect API key provided")
    run = run_cell(ip, "%agcloud models")
    out = run.stdout + run.stderr
    assert "Authentication failed (401)" in out and "Traceback" not in out


def _client(base_url: str, key: str | None = KEY) -> Client:
    return Client(Settings(api_key=key, base_url=base_url))


def test_models_sends_the_key_and_asks_for_json():
    with serve(api_key=KEY, models=["echo"]) as srv:
        client = _client(srv.base_url)
        try:
            assert client.models() == ["echo"]  # a wrong or missing key would be a 401
        finally:
            client.close()
        (request,) = srv.requests
        assert request.headers["accept"] == "application/json"
        assert request.headers["user-agent"].startswith("agcloud-magic/")


def test_models_without_a_key_sends_nothing():
    from agcloud_magic.errors import MissingKeyError

    with serve() as srv:
        client = _client(srv.base_url, key=None)
        try:
            with pytest.raises(MissingKeyError):
                client.models()
        finally:
            client.close()
        assert srv.requests == []


def test_models_refused_with_a_400_quotes_the_server():
    from agcloud_magic.errors import BadRequestError

    with serve() as srv:
        srv.fail_next(400, message="models are not listed for this key")
        client = _client(srv.base_url)
        try:
            with pytest.raises(BadRequestError) as info:
                client.models()
        finally:
            client.close()
    assert str(info.value) == "Request rejected (400): models are not listed for this key"


def test_models_from_a_server_that_is_gone_is_one_line():
    from agcloud_magic.errors import ConnectionFailedError

    with serve() as srv:
        base_url = srv.base_url
    client = _client(base_url)  # the port is closed now
    try:
        with pytest.raises(ConnectionFailedError) as info:
            client.models()
    finally:
        client.close()
    assert str(info.value).startswith(f"Could not connect to {base_url} (ConnectError)")


def test_a_listing_in_another_shape_is_one_line():
    from agcloud_magic.errors import AGCloudError

    from .gateway_support import Capture, ReplayServer

    server = ReplayServer()
    server.push(Capture(200, "OK", [("content-type", "application/json")], b'{"models": []}'))
    client = _client(server.base_url)
    try:
        with pytest.raises(AGCloudError) as info:
            client.models()
    finally:
        client.close()
        server.close()
    assert str(info.value) == (
        f"The server at {server.base_url} answered GET /models with something other than the "
        'API\'s {"data": [{"id": ...}]} list.'
    )
