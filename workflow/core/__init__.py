"""The pure core: rulebooks, the state machine, guards, calendars and deadlines.

No database, no web framework, no storage (import-linter checks it)."""
