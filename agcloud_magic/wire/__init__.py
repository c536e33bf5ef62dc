"""The wire protocol, pure: SSE framing, event names, the accumulator and the Result.

Nothing here does I/O or imports anything outside the standard library (and
:mod:`agcloud_magic.errors`): the same bytes always fold to the same :class:`Result`.
"""
