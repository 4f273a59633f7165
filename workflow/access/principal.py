"""The authenticated caller and what it may reach. Pure: no database access."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from workflow.access.permissions import Perm, Scope, permissions_of, scope_of


@dataclass(frozen=True)
class Grant:
    partnership_id: uuid.UUID
    partnership_code: str
    role: str
    nation: str = "england"  # the partnership's (workflow/core/nations.py)
    partnership_name: str = ""  # for people (the web header); the code when not given

    # Cached on the instance (a Principal, and its grants, live in the token cache):
    # looking the role up in the table per call was most of a permission check.
    @cached_property
    def scope(self) -> Scope:
        return scope_of(self.role)

    @cached_property
    def permissions(self) -> frozenset[str]:
        return permissions_of(self.role)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, their roles per partnership, the cases assigned to them."""

    user_id: uuid.UUID
    username: str
    grants: tuple[Grant, ...]
    assigned_cases: frozenset[uuid.UUID] = field(default_factory=frozenset)
    is_system_admin: bool = False

    def grants_reaching(self, partnership_id: uuid.UUID, case_id: uuid.UUID | None) -> list[Grant]:
        """The grants whose scope covers a case of `partnership_id` (or a new one)."""
        out = []
        for g in self.grants:
            if (
                g.scope == "all"
                or (g.scope == "partnership" and g.partnership_id == partnership_id)
                or (
                    g.scope == "assigned"
                    and g.partnership_id == partnership_id
                    and case_id is not None
                    and case_id in self.assigned_cases
                )
            ):
                out.append(g)
        return out

    def may(self, perm: str, partnership_id: uuid.UUID, case_id: uuid.UUID | None) -> bool:
        return any(perm in g.permissions for g in self.grants_reaching(partnership_id, case_id))

    def can_see(self, partnership_id: uuid.UUID, case_id: uuid.UUID | None) -> bool:
        return self.may(Perm.CASE_READ, partnership_id, case_id)

    def partnerships_with(
        self, perm: str, scopes: Iterable[Scope] = ("partnership",)
    ) -> set[uuid.UUID]:
        wanted = set(scopes)
        return {
            g.partnership_id for g in self.grants if g.scope in wanted and perm in g.permissions
        }

    def has_national_scope(self, perm: str) -> bool:
        return any(g.scope == "all" and perm in g.permissions for g in self.grants)

    @property
    def label(self) -> str:
        return self.username

    @property
    def partnerships_label(self) -> str:
        """Whose cases this person works on, for a page header: the partnership's name,
        "All partnerships" for a national role, or the names of several."""
        if any(g.scope == "all" for g in self.grants):
            return "All partnerships"
        names = sorted({g.partnership_name or g.partnership_code for g in self.grants})
        if len(names) <= 2:
            return " and ".join(names) or "No partnership"
        return f"{len(names)} partnerships"
