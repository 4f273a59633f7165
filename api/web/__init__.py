"""The web dashboard: server-rendered pages (Jinja2) signed in with an API token."""

from api.web.router import router, static_files

__all__ = ["router", "static_files"]
