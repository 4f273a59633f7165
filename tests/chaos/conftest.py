"""The chaos test uses the fault tests' per-test PostgreSQL database."""

from tests.faults.conftest import pg_url

__all__ = ["pg_url"]
