"""Widget comms that serialise like a kernel: what the panel's widgets really put on the wire.

In a plain test process ipywidgets uses ``comm.DummyComm``, which drops every message unread,
so neither the bytes a panel sends nor a value the kernel could not send are ever seen.
:class:`KernelComm` packs each message with jupyter_client's own ``json_packer`` (what
``Session.serialize`` uses in ipykernel), so a value a kernel cannot encode (a lone UTF-16
surrogate) raises here as it does there, and :class:`WireLog` counts the bytes of every
message, per comm.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from comm.base_comm import BaseComm
from jupyter_client.session import json_packer


class WireLog:
    """Bytes sent on each widget comm (``comm_id -> bytes``), and how many messages."""

    def __init__(self) -> None:
        self.bytes: Counter[str] = Counter()
        self.messages = 0

    @property
    def total(self) -> int:
        """All bytes sent since the log was made (or last :meth:`reset`)."""
        return sum(self.bytes.values())

    def reset(self) -> None:
        """Start counting afresh."""
        self.bytes.clear()
        self.messages = 0


class KernelComm(BaseComm):
    """A comm that serialises each message as a kernel would, and logs its size."""

    log: WireLog

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:
        """Pack the message like ``Session.serialize`` (raises where a kernel would)."""
        packed = json_packer({"data": data or {}, "metadata": metadata or {}})
        self.log.bytes[self.comm_id] += len(packed)
        self.log.messages += 1


def kernel_comms(monkeypatch: Any) -> WireLog:
    """Make every widget created from now on (in this test) use a :class:`KernelComm`."""
    import comm

    log = WireLog()
    # A subclass per log: the comm opens (and sends its first message) inside __init__.
    logged = type("LoggedKernelComm", (KernelComm,), {"log": log})
    monkeypatch.setattr(comm, "create_comm", logged)
    return log
