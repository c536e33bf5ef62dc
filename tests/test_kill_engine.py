"""Mutation-testing gaps in the engine: the rules' limits and messages, usage counting, thread
selection, the tool-round bound, and the session's preview/respond/close.  Pure parts are
tested directly; requests go to the stand-in over loopback."""

from __future__ import annotations

import pytest

from agcloud_magic.engine.ask import Ask
from agcloud_magic.engine.conversation import Conversation, Thread, Turn
from agcloud_magic.engine.exchange import rounds_exhausted
from agcloud_magic.engine.preferences import Preferences
from agcloud_magic.engine.rules import check
from agcloud_magic.engine.session import Session
from agcloud_magic.errors import ConfigError, MissingKeyError, ToolError
from agcloud_magic.http.client import Client
from agcloud_magic.http.settings import Settings
from agcloud_magic.standin import serve
from agcloud_magic.wire.result import Result

KEY = "sk-test-kill-engine-0123456789"


def refused(name: str, value: object) -> str:
    with pytest.raises(ConfigError) as info:
        check(name, value)
    return str(info.value)


# -- rules --------------------------------------------------------------------------------


def test_text_rule_names_the_type_it_got():
    assert refused("instructions", 5) == "instructions must be text, got int."
    assert check("instructions", "") == ""


def test_reasoning_rule():
    assert refused("reasoning", "low") == (
        "reasoning must be an object such as {'effort': 'low'}, got 'low'."
    )
    assert refused("reasoning", {"effort": "bogus"}) == (
        "reasoning effort must be one of none, minimal, low, medium, high, xhigh, max, "
        "got 'bogus'."
    )
    assert refused("reasoning", {"summary": "bogus", "effort": "low"}) == (
        "reasoning summary must be one of auto, concise, detailed, got 'bogus'."
    )
    for ok in ({}, {"effort": "low"}, {"summary": "auto"}, {"effort": "max", "summary": "concise"}):
        assert check("reasoning", ok) == ok


def test_between_rule_bounds_types_and_messages():
    assert check("temperature", 0) == 0 and check("temperature", 2) == 2
    assert check("temperature", 1.5) == 1.5
    assert check("top_p", 1) == 1
    assert refused("temperature", 2.5) == "temperature must be between 0 and 2, got 2.5."
    assert refused("temperature", -0.1) == "temperature must be between 0 and 2, got -0.1."
    assert refused("temperature", "hot") == "temperature must be a number, got 'hot'."
    assert check("max_retries", 0) == 0 and check("max_retries", 10) == 10
    three = check("max_retries", 3.0)
    assert three == 3 and type(three) is int
    assert refused("max_retries", 11) == "max_retries must be between 0 and 10, got 11."
    assert refused("max_retries", "x") == "max_retries must be a whole number, got 'x'."
    assert refused("max_retries", 2.5) == "max_retries must be a whole number, got 2.5."


def test_at_least_rule_bounds_types_and_messages():
    assert check("max_output_tokens", 16) == 16
    sixteen = check("max_output_tokens", 16.0)
    assert sixteen == 16 and type(sixteen) is int
    assert refused("max_output_tokens", 15) == "max_output_tokens must be at least 16, got 15."
    assert refused("max_output_tokens", 16.5) == (
        "max_output_tokens must be a whole number, got 16.5."
    )
    assert refused("max_output_tokens", "many") == (
        "max_output_tokens must be a whole number, got 'many'."
    )
    assert check("summary_budget", 500) == 500
    assert refused("summary_budget", 499) == (
        "summary_budget must be at least 500 characters, got 499."
    )


def test_one_of_rule():
    assert check("format", "json") == "json"
    assert refused("format", "html") == (
        "format must be one of markdown, text, code, json, got 'html'."
    )
    assert refused("role", "bot") == (
        "role must be one of user, developer, system, assistant, got 'bot'."
    )


def test_name_rule_strips_and_refuses_blank_or_non_text():
    assert check("model", "  echo ") == "echo"
    assert refused("model", "\t") == "model must be a non-empty name, got '\\t'."
    assert refused("model", 5) == "model must be a non-empty name, got 5."


def test_tool_choice_rule():
    assert check("tool_choice", "required") == "required"
    assert check("tool_choice", {"type": "function", "name": "f"}) == {"type": "function",
                                                                       "name": "f"}
    assert refused("tool_choice", "sometimes") == (
        "tool_choice must be auto, none, required or a tool choice object, got 'sometimes'."
    )
    assert refused("tool_choice", {"type": 1}).startswith("tool_choice must be auto")


# -- conversation: usage and threads ------------------------------------------------------


def test_token_counts_ignore_non_integers_and_missing_usage():
    turn = Turn("r1", None, usage={"input_tokens": 3, "output_tokens": "x"},
                round_usage=[{"input_tokens": 2}, {}])
    assert turn.input_tokens == 5 and turn.output_tokens == 0
    assert Turn("r2", None).input_tokens == 0 and Turn("r2", None).output_tokens == 0


def test_usage_totals_over_threads_and_with_none():
    conv = Conversation()
    assert conv.usage_totals() == (0, 0, 0)
    conv.thread("a").record(Turn("r1", None, usage={"input_tokens": 3, "output_tokens": 4}))
    conv.thread("b").record(Turn("r2", None, usage={"input_tokens": 10, "output_tokens": 1}))
    assert conv.usage_totals() == (2, 13, 5)
    conv.threads.clear()
    assert conv.usage_totals() == (0, 0, 0)


def test_select_makes_a_thread_current_and_find_locates_a_turn():
    conv = Conversation()
    thread = conv.select("side")
    assert thread.name == "side" and conv.current == "side" and conv.thread() is thread
    turn = Turn("resp_1", None)
    thread.record(turn)
    conv.select("main")
    assert conv.current == "main" and conv.thread() is conv.threads["main"]
    assert conv.find("resp_1") == (thread, turn)
    assert conv.find("resp_unknown") is None


def test_reset_forgets_the_head_and_instructions():
    thread = Thread("t", instructions="Be terse.")
    thread.record(Turn("r1", None))
    thread.reset()
    assert thread.head is None and thread.instructions is None
    assert thread.parent_for(None) is None


# -- the tool-round bound -----------------------------------------------------------------


def test_rounds_exhausted_says_how_to_go_on_and_keeps_the_partial():
    partial = Result(id="resp_9", text="so far")
    error = rounds_exhausted(3, partial)
    assert isinstance(error, ToolError) and error.partial is partial
    assert str(error) == (
        "Stopped after 3 tool rounds without a final answer: raise --max-rounds, or ask more "
        "narrowly."
    )
    assert "raise max_tool_rounds," in str(rounds_exhausted(2, partial, "max_tool_rounds"))


# -- errors -------------------------------------------------------------------------------


def test_missing_key_message_and_repr():
    error = MissingKeyError()
    assert str(error) == (
        "No API key: set AGCLOUD_API_KEY in the environment, or run %agcloud login (or %agcloud "
        "offline to use the local stand-in server)."
    )
    assert repr(error) == f"MissingKeyError({str(error)!r})"


# -- the session --------------------------------------------------------------------------


@pytest.fixture()
def no_env(monkeypatch):
    for name in ("AGCLOUD_API_KEY", "AGCLOUD_BASE_URL", "AGCLOUD_MODEL"):
        monkeypatch.delenv(name, raising=False)


def test_a_new_session_has_no_last_result_and_no_keys(no_env):
    session = Session()
    assert session.last is None and session.login_key is None and session.offline_key is None
    with pytest.raises(MissingKeyError):
        session.checked_settings()


def test_preview_fills_in_the_model_in_force(no_env):
    session = Session(Preferences(model="pref-model"))
    assert session.preview(Ask("hi"))["model"] == "pref-model"
    assert session.preview(Ask("hi", fields={"model": "asked"}))["model"] == "asked"
    assert Session().preview(Ask("hi"))["model"] == Settings().model


def test_respond_uses_the_given_client_conversation_and_event_callback(no_env):
    with serve() as srv:
        client = Client(Settings(api_key=KEY, base_url=srv.base_url, model="echo"))
        conv = Conversation()
        seen: list[str] = []
        result = Session().respond(Ask("hello there"), conversation=conv, client=client,
                                   on_event=lambda e: seen.append(e["type"]))
        client.close()
    assert "hello there" in result.text
    assert conv.thread().head == result.id  # the turn went into the given conversation
    assert "response.output_text.delta" in seen and seen[-1] == "response.completed"


def test_respond_without_a_conversation_records_nowhere(no_env):
    with serve() as srv:
        session = Session()
        session.login_key = KEY
        session.prefs.base_url = srv.base_url
        result = session.respond(Ask("one"))
        session.close()
    assert "one" in result.text and session.conversation.thread().head is None


def test_close_stops_the_sessions_stand_in_and_forgets_it(no_env):
    srv = serve()
    session = Session()
    session.offline, session.offline_key = srv, KEY
    session.prefs.base_url = srv.base_url
    assert "ping" in session.respond(Ask("ping")).text
    session.close()
    assert not srv.running
    assert session.offline is None and session.offline_key is None
    session.close()  # twice is fine


# -- exchange.record, thread paths, arun, the shared session ------------------------------


def test_record_keeps_what_the_final_response_said():
    from agcloud_magic.engine.exchange import Exchange

    conv = Conversation()
    exchange = Exchange(conv, Ask("q", source="panel"))
    exchange.first_body()
    exchange.on_result(Result(id="r1", model="m1", status="incomplete", text="a",
                              usage={"input_tokens": 1}))
    turn = exchange.record()
    assert (turn.model, turn.usage, turn.status, turn.source) == (
        "m1", {"input_tokens": 1}, "incomplete", "panel"
    )
    assert conv.thread().head == "r1"
    assert turn.input_items == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "q"}]}
    ]
    nothing = Exchange(conv, Ask("q2"))
    nothing.on_result(Result(id=None, text="no id"))
    assert nothing.record() is None and conv.thread().head == "r1"


def test_path_stops_at_unknown_ids_and_cycles():
    thread = Thread("t", head="missing")
    assert thread.path() == []
    a, b = Turn("a", "b"), Turn("b", "a")
    thread.turns = {"a": a, "b": b}
    thread.head = "a"
    assert thread.path() == [b, a]


def test_arun_keeps_last_only_for_its_own_conversation_and_forwards_events(no_env):
    import asyncio

    from agcloud_magic.engine.driver import NULL_SINK

    with serve() as srv:
        session = Session()
        session.login_key = KEY
        session.prefs.base_url = srv.base_url
        seen: list[str] = []
        result = asyncio.run(session.arun(Ask("own"), NULL_SINK,
                                          on_event=lambda e: seen.append(e["type"])))
        assert session.last is result and seen[-1] == "response.completed"
        other = asyncio.run(session.arun(Ask("other"), NULL_SINK, conversation=Conversation()))
        assert session.last is result and "other" in other.text
        session.prefs.model = "lorem-40"
        with pytest.raises(Exception) as info:
            asyncio.run(session.arun(Ask("cut", fields={"max_output_tokens": 16}), NULL_SINK))
        assert type(info.value).__name__ == "IncompleteResponseError"
        assert session.last is info.value.partial  # a cut-by-limit answer is still recorded
        session.close()


def test_current_session_is_made_once():
    from agcloud_magic.engine import session as session_module

    saved = session_module._CURRENT
    try:
        session_module.set_current_session(None)
        first = session_module.current_session()
        assert isinstance(first, Session) and session_module.current_session() is first
    finally:
        session_module.set_current_session(saved)
