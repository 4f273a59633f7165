"""The web dashboard: server-rendered pages (Jinja2) for people signed in with a password."""

from api.web import accounts, command_pages, incident_pages  # noqa: F401 - their routes
from api.web.router import missing_assets, router, static_files

__all__ = ["missing_assets", "router", "static_files"]
