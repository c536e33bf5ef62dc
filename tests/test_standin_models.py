"""The stand-in's model list: ``GET /v1/models``, and an unknown model answered as the API does."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from agcloud_magic.standin import DEFAULT_MODELS, serve

KEY = "sk-test-models-0000"
REPO = Path(__file__).resolve().parents[1]
AUTH = {"Authorization": f"Bearer {KEY}"}


def _not_found(name: str) -> dict[str, Any]:
    return {"error": {
        "message": f"The model `{name}` does not exist or you do not have access to it.",
        "type": "invalid_request_error", "param": None, "code": "model_not_found",
    }}


def test_lists_the_default_models_in_the_openai_shape(standin: Any) -> None:
    response = httpx.get(f"{standin.base_url}/models", headers=AUTH, timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == list(DEFAULT_MODELS)
    for entry in body["data"]:
        assert set(entry) == {"id", "object", "created", "owned_by"}
        assert entry["object"] == "model"
        assert isinstance(entry["created"], int) and entry["created"] > 0
        assert isinstance(entry["owned_by"], str) and entry["owned_by"]
    assert {"echo", "lorem", "gpt-4o-mini"} <= set(DEFAULT_MODELS)


def test_models_need_a_key_like_every_route(standin: Any) -> None:
    response = httpx.get(f"{standin.base_url}/models", timeout=10)
    assert response.status_code == 401


def test_one_model_and_an_unknown_one(standin: Any) -> None:
    one = httpx.get(f"{standin.base_url}/models/gpt-4o-mini", headers=AUTH, timeout=10)
    assert one.status_code == 200
    assert one.json()["id"] == "gpt-4o-mini" and one.json()["object"] == "model"
    lorem = httpx.get(f"{standin.base_url}/models/lorem-40", headers=AUTH, timeout=10)
    assert lorem.status_code == 200 and lorem.json()["id"] == "lorem-40"
    missing = httpx.get(f"{standin.base_url}/models/gpt-4o-mnii", headers=AUTH, timeout=10)
    assert missing.status_code == 404
    assert missing.json() == _not_found("gpt-4o-mnii")


@pytest.mark.parametrize("stream", [False, True])
def test_an_unknown_model_is_a_404_before_anything_streams(standin: Any, stream: bool) -> None:
    response = httpx.post(f"{standin.base_url}/responses", headers=AUTH, timeout=10,
                          json={"model": "gpt-4o-mnii", "input": "hi", "stream": stream})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == _not_found("gpt-4o-mnii")
    assert not standin.stored  # nothing was answered, nothing stored


def test_a_scripted_turn_does_not_hide_an_unknown_model(standin: Any) -> None:
    standin.script("scripted")
    response = httpx.post(f"{standin.base_url}/responses", headers=AUTH, timeout=10,
                          json={"model": "nope", "input": "hi"})
    assert response.status_code == 404
    ok = httpx.post(f"{standin.base_url}/responses", headers=AUTH, timeout=10,
                    json={"model": "echo", "input": "hi"})
    assert ok.json()["output"][0]["content"][0]["text"] == "scripted"  # still queued


def test_the_sdk_sees_model_not_found_and_lists_models(standin: Any) -> None:
    client = openai.OpenAI(base_url=standin.base_url, api_key=KEY, max_retries=0, timeout=10)
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model="gpt-4o-mnii", input="hi")
    assert caught.value.code == "model_not_found"
    assert "gpt-4o-mnii" in caught.value.message
    assert [m.id for m in client.models.list()] == list(DEFAULT_MODELS)
    assert client.models.retrieve("echo").owned_by


def test_serve_takes_its_own_model_list() -> None:
    with serve(models=["house-model", "echo"]) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key=KEY, max_retries=0, timeout=10)
        assert [m.id for m in client.models.list()] == ["house-model", "echo"]
        answer = client.responses.create(model="house-model", input="hello")
        assert answer.model == "house-model"
        assert "You said: hello" in answer.output_text  # any listed name but lorem is echo
        with pytest.raises(openai.NotFoundError):
            client.responses.create(model="gpt-4o-mini", input="hi")
        with pytest.raises(openai.NotFoundError):
            client.responses.create(model="lorem-3", input="hi")  # lorem is not listed


@pytest.mark.parametrize("bad", [[], [""], ["ok", 3], "echo"])
def test_a_bad_model_list_fails_at_once(bad: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        serve(models=bad).stop()


def _named_models() -> set[str]:
    """Model names the README, docs, panel, default settings and demo scripts use."""
    names: set[str] = set()
    texts = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")),
             REPO / "scripts" / "demo.py", REPO / "scripts" / "make_notebooks.py"]
    for path in texts:
        text = path.read_text("utf-8")
        names |= set(re.findall(r"(?:-m|--model)[ =]([A-Za-z0-9][\w.:-]*)", text))
        names |= set(re.findall(r"AGCLOUD_MODEL=[\"']?([A-Za-z0-9][\w.:-]*)", text))
        names |= set(re.findall(r"model\s*=\s*[\"']([^\"']+)[\"']", text))
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text("utf-8"))["cells"]:
            source = "".join(cell["source"])
            names |= set(re.findall(r"(?:-m|--model)[ =]([A-Za-z0-9][\w.:-]*)", source))
            names |= set(re.findall(r"model\s*=\s*[\"']([^\"']+)[\"']", source))
    panel = (REPO / "agcloud_magic" / "panel" / "panel.py").read_text("utf-8")
    suggested = re.search(r"SUGGESTED_MODELS = (\(.*?\))", panel)
    assert suggested, "panel.SUGGESTED_MODELS moved; update this test"
    names |= set(ast.literal_eval(suggested[1]))
    settings = (REPO / "agcloud_magic" / "http" / "settings.py").read_text("utf-8")
    default = re.search(r"DEFAULT_MODEL = \"([^\"]+)\"", settings)
    assert default, "http.settings.DEFAULT_MODEL moved; update this test"
    names.add(default[1])
    # Not model names: python -m modules, pytest -m markers, placeholders in prose.
    return {n for n in names if not n.startswith(("agcloud_magic", "pytest", "e2e", "kernel"))
            and n not in {"ID", "NAME", "MODEL", "lorem-N", "pip", "venv"}}


def test_every_model_the_docs_and_faces_name_is_listed(standin: Any) -> None:
    named = _named_models()
    assert {"gpt-4o-mini", "echo"} <= named  # the scan itself works
    for name in sorted(named):
        response = httpx.get(f"{standin.base_url}/models/{name}", headers=AUTH, timeout=10)
        assert response.status_code == 200, f"{name!r} is named in the docs but not served"
