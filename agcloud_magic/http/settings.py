"""Settings: where requests go, with which key and model.

Precedence (highest first): options on the magic line > ``%agcloud config`` /
``%config RespondMagics.<trait>`` > environment > defaults.  The environment is read at call time
so a key exported after ``%load_ext`` is picked up.  The key is kept only in memory and never
shown: ``repr(settings)`` and :func:`mask_key` print ``sk-…abcd``.
"""

from __future__ import annotations

import ipaddress
import os
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from agcloud_magic.errors import (
    ConfigError,
    InsecureBaseURLError,
    InvalidKeyError,
    MissingKeyError,
    remember_secret,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "ENV_BASE_URL",
    "ENV_KEY",
    "ENV_MODEL",
    "Settings",
    "check_base_url",
    "clean_key",
    "is_loopback_host",
    "mask_key",
]

DEFAULT_BASE_URL = "https://aiandgpu.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
ENV_KEY = "AGCLOUD_API_KEY"
ENV_BASE_URL = "AGCLOUD_BASE_URL"
ENV_MODEL = "AGCLOUD_MODEL"


def mask_key(key: str | None) -> str:
    """Show a key as ``sk-…abcd`` (never more than its last four characters).

    Keys shorter than 12 characters show none of them (``sk-…`` or ``…``): four characters of
    a short key would give away much of it (tests/test_regress_core.py guards this)."""
    if not key:
        return "(not set)"
    head = "sk-" if key.startswith("sk-") else ""
    return f"{head}…{key[-4:]}" if len(key) >= 12 else f"{head}…"


def clean_key(key: str | None) -> str | None:
    """``key`` without the white space around it (a key read from a CRLF file ends in
    ``\r\n``), or :class:`InvalidKeyError` when what is left holds a character no API key
    has: anything but printable ASCII (a zero-width space or a non-breaking space pasted
    with it, a line break inside).  Such a key would otherwise fail deep in the HTTP library,
    in an exception whose text and frame locals hold the whole key.  The message names the
    character and its place, never the key."""
    if key is None:
        return None
    stripped = key.strip()
    for place, char in enumerate(stripped, start=1):
        if not "!" <= char <= "~":
            name = unicodedata.name(char, "a control character")
            raise InvalidKeyError(
                f"The API key holds U+{ord(char):04X} ({name}) at character {place} of "
                f"{len(stripped)}, which no key has: copy the key again (AGCLOUD_API_KEY or "
                "%agcloud login)."
            )
    return stripped or None


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost`` and literal addresses in 127.0.0.0/8 or ``::1``.

    Not ``*.localhost``: RFC 6761 lets resolvers answer those from DNS, so such a name may
    lead off the machine, with the key in clear text over plain http."""
    if not host:
        return False
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, *, allow_insecure: bool = False) -> str:
    """Validate a base URL and return it without a trailing slash.

    Plain ``http://`` is accepted only for loopback hosts (the stand-in server) unless
    ``allow_insecure`` is set, because the Bearer key would otherwise travel in clear text.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"Base URL {url!r} is not an http(s) URL: set AGCLOUD_BASE_URL to e.g. "
            f"{DEFAULT_BASE_URL}."
        )
    if parts.scheme == "http" and not allow_insecure and not is_loopback_host(parts.hostname):
        raise InsecureBaseURLError(
            f"Refusing plain-http base URL for host {parts.hostname!r}: the API key would travel "
            "unencrypted. Use https://, or %agcloud config allow_insecure_http=true if you must."
        )
    return url.strip().rstrip("/")


@dataclass(frozen=True)
class Settings:
    """Resolved connection settings for one request (immutable; derive with :meth:`with_`)."""

    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    timeout: float = 60.0
    connect_timeout: float = 10.0
    max_retries: int = 2
    allow_insecure_http: bool = False
    # The whole request, however steadily the server trickles (``timeout`` bounds one gap).
    deadline: float = 900.0
    # Bytes of answer (after decompression) read before the request is stopped.
    max_answer_bytes: int = 64 * 1024 * 1024

    def __post_init__(self) -> None:
        # The one point every key passes (environment, %agcloud login, Client(api_key=...)):
        # cleaned here, and remembered so every error message masks it whatever its shape.
        key = clean_key(self.api_key)
        object.__setattr__(self, "api_key", key)
        remember_secret(key)

    def __repr__(self) -> str:
        return (
            f"Settings(api_key={mask_key(self.api_key)!r}, base_url={self.base_url!r}, "
            f"model={self.model!r}, timeout={self.timeout!r}, max_retries={self.max_retries!r})"
        )

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults, then the environment, then ``overrides`` that are not ``None``."""
        values: dict[str, Any] = {
            "api_key": os.environ.get(ENV_KEY) or None,
            "base_url": os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL,
            "model": os.environ.get(ENV_MODEL) or DEFAULT_MODEL,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        """A copy with the given fields replaced (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def require_key(self) -> str:
        """The key, or :class:`MissingKeyError` with a hint on how to set one."""
        if not self.api_key:
            raise MissingKeyError()
        return self.api_key

    def checked_base_url(self) -> str:
        """The base URL after :func:`check_base_url`."""
        return check_base_url(self.base_url, allow_insecure=self.allow_insecure_http)
