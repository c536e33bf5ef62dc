"""The one set of rules for every setting and request field, whichever face it comes from.

Magic options, ``%agcloud config``, ``%config RespondMagics.<trait>`` (validated at assignment),
the panel's fields and the Python API's keyword arguments all pass through :func:`check`, so the
limits and the one-line messages are the same everywhere.  A value that breaks a rule is a
:class:`~agcloud_magic.errors.ConfigError` saying what is allowed; ``None`` always means "unset".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

from agcloud_magic.errors import ConfigError

__all__ = ["EFFORTS", "FORMATS", "MAX_OUTPUT_TOKENS", "MAX_TIMEOUT", "ROLES", "RULES", "SUMMARIES",
           "check", "check_fields"]

ROLES = ("user", "developer", "system", "assistant")
FORMATS = ("markdown", "text", "code", "json")
TRUNCATIONS = ("auto", "disabled")
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
SUMMARIES = ("auto", "concise", "detailed")
TOOL_CHOICE_WORDS = ("auto", "none", "required")
CONVERSATIONS = ("server", "client")  # who carries a thread: previous_response_id, or us


def _number(name: str, value: Any, *, integer: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{name} must be {kind}, got {value!r}.")
    if integer and isinstance(value, float):
        if not value.is_integer():
            raise ConfigError(f"{name} must be a whole number, got {value!r}.")
        value = int(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}.")
    return value


def _between(low: float, high: float, name: str, value: Any, *, integer: bool = False) -> Any:
    number = _number(name, value, integer=integer)
    if not low <= number <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {number:g}.")
    return number


def _at_least(low: float, name: str, value: Any, *, integer: bool = True, unit: str = "") -> Any:
    number = _number(name, value, integer=integer)
    if number < low:
        raise ConfigError(f"{name} must be at least {low:g}{unit}, got {number:g}.")
    return number


def _seconds(high: float, name: str, value: Any) -> Any:
    number = _number(name, value, integer=False)
    if number <= 0:
        raise ConfigError(f"{name} must be more than 0 seconds, got {number:g}.")
    if number > high:
        raise ConfigError(f"{name} must be at most {high:,g} seconds, got {number:g}.")
    return number


def _tokens(low: int, high: int, name: str, value: Any) -> Any:
    number = _number(name, value, integer=True)
    if number < low:
        raise ConfigError(f"{name} must be at least {low}, got {number:g}.")
    if number > high:
        raise ConfigError(f"{name} must be at most {high:,}, got {number:g}.")
    return number


# The largest max_output_tokens sent: 2**31 - 1, the largest value a server that reads the
# field as a 32-bit integer accepts (a larger one overflows there, or is rejected with a
# message about something else).  No model writes that much: the server's own, lower limit
# for the model still applies, with its own message.
MAX_OUTPUT_TOKENS = 2**31 - 1
# The longest timeout: a day.  Every clock it reaches takes it (socket timeouts and
# threading waits overflow near 9.2e9 seconds, Windows waits near 4.3e6), and a server that is
# silent for longer is not being waited for.
MAX_TIMEOUT = 86_400.0


def _one_of(choices: tuple[str, ...], name: str, value: Any) -> Any:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}.")
    return value


def _text(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be text, got {type(value).__name__}.")
    return value


def _name(name: str, value: Any) -> Any:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name} must be a non-empty name, got {value!r}.")
    return value.strip()


def _flag(name: str, value: Any) -> Any:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, got {value!r}.")
    return value


def _prices(name: str, value: Any) -> Any:
    from agcloud_magic.engine.pricing import canonical_prices  # only when prices are set

    return canonical_prices(name, value)


def _reasoning(name: str, value: Any) -> Any:
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be an object such as {{'effort': 'low'}}, got {value!r}.")
    effort, summary = value.get("effort"), value.get("summary")
    if effort is not None and effort not in EFFORTS:
        raise ConfigError(f"{name} effort must be one of {', '.join(EFFORTS)}, got {effort!r}.")
    if summary is not None and summary not in SUMMARIES:
        raise ConfigError(
            f"{name} summary must be one of {', '.join(SUMMARIES)}, got {summary!r}."
        )
    return value


def _tool_choice(name: str, value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return value
    if value in TOOL_CHOICE_WORDS:
        return value
    raise ConfigError(
        f"{name} must be auto, none, required or a tool choice object, got {value!r}."
    )


# name -> rule(name, value).  Request fields first, then the settings of a session.  The limits
# are bound with partial (not closures), so every check runs the module's own functions.
RULES: dict[str, Callable[[str, Any], Any]] = {
    "model": _name,
    "instructions": _text,
    "max_output_tokens": partial(_tokens, 16, MAX_OUTPUT_TOKENS),
    "temperature": partial(_between, 0, 2),
    "top_p": partial(_between, 0, 1),
    "stream": _flag,
    "truncation": partial(_one_of, TRUNCATIONS),
    "conversation": partial(_one_of, CONVERSATIONS),
    "reasoning": _reasoning,
    "tool_choice": _tool_choice,
    "role": partial(_one_of, ROLES),
    "format": partial(_one_of, FORMATS),
    "timeout": partial(_seconds, MAX_TIMEOUT),
    "deadline": partial(_seconds, MAX_TIMEOUT),
    "max_answer_mb": partial(_between, 1, 4096, integer=True),
    "max_retries": partial(_between, 0, 10, integer=True),
    "summary_budget": partial(_at_least, 500, unit=" characters"),
    "max_tool_rounds": partial(_between, 1, 100, integer=True),
    # Upper limits so a typo (1e6) cannot switch the guard off: no model makes hundreds of
    # useful parallel calls, and a turn needing a thousand calls should be split.
    "max_tool_calls_per_round": partial(_between, 1, 256, integer=True),
    "max_tool_calls": partial(_between, 1, 1024, integer=True),
    # Requests in flight at once for a batch (df.respond.map); the pacer backs off on 429s,
    # and past a few hundred a rate limit answers 429s that only slow the job down.
    "concurrency": partial(_between, 1, 256, integer=True),
    # Rows sent together in one batch request, and that request's prompt budget (tokens, as
    # characters/4): past ~100 rows or a large budget one bad answer costs many retries.
    "rows_per_request": partial(_between, 1, 100, integer=True),
    "budget_tokens": partial(_at_least, 1),
    # Rows a batch may send before a notebook asks first (0: ask for every batch).
    "confirm_rows": partial(_at_least, 0),
    "prices": _prices,
    "budget_cost": partial(_at_least, 0, integer=False, unit=" USD"),
    # A batch's own rate limits (requests and tokens per minute), below the account's.
    "rpm": partial(_at_least, 1),
    "tpm": partial(_at_least, 1),
    "tokens_per_request": partial(_between, 100, 1_000_000, integer=True),
    "allow_insecure_http": _flag,
    "base_url": _text,
}


def check(name: str, value: Any) -> Any:
    """``value`` for setting or field ``name`` after its rule (normalised), else ConfigError.

    ``None`` passes (it means "not set"); names without a rule pass unchanged (the API has more
    fields than we check, and the server validates those)."""
    if value is None:
        return None
    rule = RULES.get(name)
    return value if rule is None else rule(name, value)


def check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Every field after :func:`check`; ``None`` values dropped."""
    checked = {name: check(name, value) for name, value in fields.items()}
    return {name: value for name, value in checked.items() if value is not None}
