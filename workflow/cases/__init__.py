"""Changing a case: the unit of work (change.py) and every path through it
(commands via engine.py, action plans, deadline adjustments, thematic reviews)."""
