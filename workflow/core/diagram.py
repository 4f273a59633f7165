"""A rulebook's state diagram as Mermaid text, generated from the data (never drawn)."""

from __future__ import annotations

from workflow.core.rulebook import START, Rulebook


def mermaid(rulebook: Rulebook) -> str:
    """`stateDiagram-v2` text: one arrow per transition, labelled `trigger [guards]`;
    internal transitions (facts only) are self-loops; final states lead to [*]."""
    lines = ["stateDiagram-v2", f"    %% {rulebook.id} v{rulebook.version}: {rulebook.title}"]
    for state in rulebook.states:
        lines.append(f"    {state.name} : {state.name}")
    for t in rulebook.transitions:
        label = t.trigger + (f" [{', '.join(t.guards)}]" if t.guards else "")
        for source in t.source:
            src = "[*]" if source == START else source
            dest = t.dest or source
            lines.append(f"    {src} --> {dest} : {label}")
    lines += [f"    {s.name} --> [*]" for s in rulebook.states if s.final]
    return "\n".join(lines) + "\n"
