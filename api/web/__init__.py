"""The web dashboard: server-rendered pages (Jinja2) signed in with an API token."""

from api.web import attention, case_list  # noqa: F401  (their pages register on the router)
from api.web.router import missing_assets, router, static_files

__all__ = ["missing_assets", "router", "static_files"]
