"""Settings: where requests go, with which key and model.

Precedence (highest first): options on the magic line > ``%agcloud config`` /
``%config RespondMagics.<trait>`` > environment > defaults.  The environment is read at call time
so a key exported after ``%load_ext`` is picked up.  The key is kept only in memory and never
shown: ``repr(settings)`` and :func:`mask_key` print ``sk-…abcd``.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from agcloud_magic.errors import ConfigError, InsecureBaseURLError, MissingKeyError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "ENV_BASE_URL",
    "ENV_KEY",
    "ENV_MODEL",
    "Settings",
    "check_base_url",
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


def is_loopback_host(host: str | None) -> bool:
    """True for localhost and addresses in 127.0.0.0/8 or ::1."""
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
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
