"""An endless event stream on loopback, in its own process: ``python _endless_server.py PORT``.

Every POST gets ``response.created`` and then text deltas of lorem words in paragraphs, as fast
as the socket takes them, until the client goes away: the fastest a runaway server can send, for
as long as a bench needs (the stand-in's answers are finite and start late when they are huge)."""

from __future__ import annotations

import json
import socket
import sys
import threading

WORDS = ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed",
         "do", "eiusmod", "tempor")


def _event(kind: str, **fields: object) -> bytes:
    data = json.dumps({"type": kind, **fields})
    return f"event: {kind}\ndata: {data}\n\n".encode()


def _end(i: int) -> str:
    """What follows word ``i``: a full stop every 9 words, a new paragraph every 64."""
    if i % 64 == 63:
        return ".\n\n"
    return ". " if i % 9 == 8 else " "


def _serve(conn: socket.socket) -> None:
    with conn:
        request = b""
        while b"\r\n\r\n" not in request:
            got = conn.recv(65536)
            if not got:
                return
            request += got
        head, _, body = request.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            body += conn.recv(65536)
        created = _event("response.created", response={"id": "resp_endless", "status":
                                                      "in_progress", "model": "endless"})
        deltas = b"".join(
            _event("response.output_text.delta", output_index=0, content_index=0,
                   delta=f"{WORDS[i % len(WORDS)]}{_end(i)}")
            for i in range(512)
        )
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                         b"connection: close\r\n\r\n" + created)
            while True:
                conn.sendall(deltas)
        except OSError:
            return


def main() -> None:
    listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=_serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
