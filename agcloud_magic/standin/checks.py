"""Primitive checks for request validation, raising :class:`ApiError` in the real API's words."""

from __future__ import annotations

from typing import Any

from .common import ApiError
from .inputs import decode_data_url

__all__ = [
    "bad_type",
    "bad_value",
    "check_bool",
    "check_enum",
    "check_int",
    "check_number",
    "check_object",
    "check_str",
    "check_url",
    "missing",
    "unknown",
]

_TYPE_WORDS = {
    str: "a string", bool: "a boolean", int: "an integer", float: "a decimal",
    list: "an array", dict: "an object", type(None): "null",
}


def _got(value: Any) -> str:
    return _TYPE_WORDS.get(type(value), "an unsupported value")


def bad_type(param: str, expected: str, value: Any) -> ApiError:
    """A 400 for a value of the wrong JSON type."""
    return ApiError(
        400,
        f"Invalid type for '{param}': expected {expected}, but got {_got(value)} instead.",
        param=param,
        code="invalid_type",
    )


def bad_value(param: str, value: Any, allowed: tuple[str, ...]) -> ApiError:
    """A 400 for a value outside an enum."""
    quoted = [f"'{a}'" for a in allowed]
    if len(quoted) <= 2:
        listed = " and ".join(quoted)
    else:
        listed = ", ".join(quoted[:-1]) + f", and {quoted[-1]}"
    return ApiError(
        400,
        f"Invalid value: '{value}'. Supported values are: {listed}.",
        param=param,
        code="invalid_value",
    )


def missing(param: str) -> ApiError:
    """A 400 for a required parameter that is absent or null."""
    return ApiError(
        400, f"Missing required parameter: '{param}'.", param=param,
        code="missing_required_parameter",
    )


def unknown(param: str) -> ApiError:
    """A 400 for a parameter the API does not know."""
    return ApiError(400, f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter")


def check_str(value: Any, param: str, *, nullable: bool = True) -> None:
    """Require a string (or null when ``nullable``)."""
    if value is None and nullable:
        return
    if not isinstance(value, str):
        raise bad_type(param, "a string", value)


def check_bool(value: Any, param: str) -> None:
    """Require a boolean or null."""
    if value is not None and not isinstance(value, bool):
        raise bad_type(param, "a boolean", value)


def check_enum(value: Any, param: str, allowed: tuple[str, ...]) -> None:
    """Require one of ``allowed`` or null."""
    if value is None:
        return
    check_str(value, param)
    if value not in allowed:
        raise bad_value(param, value, allowed)


def check_number(value: Any, param: str, low: float, high: float) -> None:
    """Require a number in ``[low, high]`` or null."""
    if value is None:
        return
    # bool is an int in Python; JSON true is not a number for the API.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_type(param, "a decimal", value)
    if value > high:
        raise ApiError(
            400,
            f"Invalid '{param}': decimal above maximum value. "
            f"Expected a value <= {high:g}, but got {value} instead.",
            param=param, code="decimal_above_max_value",
        )
    if value < low:
        raise ApiError(
            400,
            f"Invalid '{param}': decimal below minimum value. "
            f"Expected a value >= {low:g}, but got {value} instead.",
            param=param, code="decimal_below_min_value",
        )


def check_int(value: Any, param: str, low: int, high: int | None = None) -> None:
    """Require an integer ``>= low`` (and ``<= high``) or null."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_type(param, "an integer", value)
    if value < low:
        raise ApiError(
            400,
            f"Invalid '{param}': integer below minimum value. "
            f"Expected a value >= {low}, but got {value} instead.",
            param=param, code="integer_below_min_value",
        )
    if high is not None and value > high:
        raise ApiError(
            400,
            f"Invalid '{param}': integer above maximum value. "
            f"Expected a value <= {high}, but got {value} instead.",
            param=param, code="integer_above_max_value",
        )


def check_object(value: Any, param: str, allowed: frozenset[str] | None = None) -> None:
    """Require an object or null; with ``allowed``, reject unknown keys."""
    if value is None:
        return
    if not isinstance(value, dict):
        raise bad_type(param, "an object", value)
    if allowed is not None:
        for key in value:
            if key not in allowed:
                raise unknown(f"{param}.{key}")


def check_url(value: Any, param: str, *, image: bool) -> None:
    """Require an http(s) URL or a decodable ``data:`` URL."""
    check_str(value, param, nullable=False)
    if value.startswith("data:"):
        decoded = decode_data_url(value)
        if decoded is None or (image and not decoded[0].startswith("image/")):
            what = "an image MIME type" if image else "a MIME type"
            raise ApiError(
                400,
                f"Invalid '{param}'. Expected a base64-encoded data URL with {what} "
                "(e.g. 'data:image/png;base64,aW1n...'), but the value could not be decoded.",
                param=param, code="invalid_value",
            )
    elif not value.startswith(("http://", "https://")):
        raise ApiError(
            400, f"Invalid '{param}': expected a URL (https:// or data:).", param=param,
            code="invalid_value",
        )
