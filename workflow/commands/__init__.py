"""The command models: one class per business action, pure (no database, no web).

A class declares its trigger, stage record, URL segment, summary, refusal words,
the roles granted it, its date rules and its named effects; registry.py collects
them and everything else (routes, permissions, OpenAPI, docs, forms) derives from it.
"""
