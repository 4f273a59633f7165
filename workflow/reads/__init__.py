"""Reads: queries, dashboard, exports, reports, learning, feeds, change stamps.

Nothing here changes a case; a personal read is audited."""
