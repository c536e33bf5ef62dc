"""The stand-in takes a burst of connections at once, as an API does (a batch, a gather)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx


def test_a_burst_of_a_hundred_connections_is_answered_not_dropped(standin):
    def ask(i: int) -> int:
        with httpx.Client(timeout=30) as client:
            response = client.post(f"{standin.base_url}/responses",
                                   json={"model": "echo", "input": f"hi {i}"},
                                   headers={"Authorization": "Bearer sk-test-burst-0000"})
            return response.status_code

    with ThreadPoolExecutor(max_workers=100) as pool:
        statuses = list(pool.map(ask, range(100)))
    assert statuses == [200] * 100
