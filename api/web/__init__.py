"""The web dashboard: server-rendered pages (Jinja2) for people signed in with a password."""

from api.web import accounts  # noqa: F401 - its pages join the router
from api.web.router import missing_assets, router, static_files

__all__ = ["missing_assets", "router", "static_files"]
