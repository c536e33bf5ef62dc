"""The only user of httpx: the client (sync and async), retries, status mapping, settings."""
