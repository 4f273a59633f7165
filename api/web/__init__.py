"""The web dashboard: server-rendered pages (Jinja2) for people signed in with a password."""

from api.web import (  # noqa: F401 - their pages register on the router
    accounts,
    attention,
    case_list,
    command_pages,
    incident_pages,
)
from api.web.router import missing_assets, router, static_files

__all__ = ["missing_assets", "router", "static_files"]
