"""Whether an incident is notifiable and whether it meets the rapid review criteria.

Children Act 2004 s16C(1) and Working Together 2023 ch.5: the local authority must
notify the Panel when it knows or suspects that a child (under 18, including an
unborn child) has been abused or neglected and the child has died or been
seriously harmed, in its area (or, if normally resident in its area, outside
England). The death of a looked-after child, and of a care leaver up to age 24,
is notifiable to the Secretary of State and Ofsted even when those criteria are
not met, but then without a rapid review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Nature = Literal["death", "serious_harm", "other"]
AbuseOrNeglect = Literal["known", "suspected", "not_suspected"]

CARE_LEAVER_MAX_AGE = 24  # Working Together 2023 ch.5 (care leavers up to 25th birthday)


class IncidentCriteria(BaseModel):
    """The notification criteria as answered by the local authority."""

    model_config = ConfigDict(extra="forbid")

    nature: Nature = Field(
        description="A death (a suspected suicide included), serious harm, or something else."
    )
    abuse_or_neglect: AbuseOrNeglect
    child_age_years: int | None = Field(
        default=None,
        ge=0,
        le=CARE_LEAVER_MAX_AGE,
        description="Age at the incident; omit for an unborn child.",
    )
    unborn: bool = False
    looked_after_child: bool = False
    care_leaver: bool = False
    occurred_in_area: bool = Field(
        default=True, description="The incident happened in the notifying authority's area."
    )
    resident_in_area_harmed_outside_england: bool = False

    @model_validator(mode="after")
    def _age_or_unborn(self) -> IncidentCriteria:
        if self.unborn == (self.child_age_years is not None):
            raise ValueError("give child_age_years, or unborn=true for an unborn child (not both)")
        return self


@dataclass(frozen=True)
class Assessment:
    meets_review_criteria: bool
    notifiable: bool
    reasons: tuple[str, ...]


def assess(c: IncidentCriteria) -> Assessment:
    """Apply s16C(1) and the looked-after / care leaver death rules; explain the outcome."""
    reasons: list[str] = []
    child = c.unborn or (c.child_age_years is not None and c.child_age_years < 18)
    harmed = c.nature in ("death", "serious_harm")
    abuse = c.abuse_or_neglect in ("known", "suspected")
    in_scope = c.occurred_in_area or c.resident_in_area_harmed_outside_england
    meets = child and harmed and abuse and in_scope
    if meets:
        reasons.append(
            "child died or was seriously harmed and abuse or neglect is known or "
            "suspected (Children Act 2004 s16C(1))"
        )
    else:
        reasons += [
            text
            for failed, text in (
                (not child, "not a child (18 or over)"),
                (not harmed, "neither death nor serious harm"),
                (not abuse, "abuse or neglect neither known nor suspected"),
                (
                    not in_scope,
                    "not in the authority's area nor a resident child harmed outside England",
                ),
            )
            if failed
        ]
    dead = c.nature == "death"
    lac_death = dead and c.looked_after_child and child
    leaver_death = dead and c.care_leaver and (c.child_age_years or 0) <= CARE_LEAVER_MAX_AGE
    if lac_death:
        reasons.append(
            "death of a looked-after child: notifiable to the Secretary of State and Ofsted"
        )
    if leaver_death:
        reasons.append(
            "death of a care leaver under 25: notifiable to the Secretary of State and Ofsted"
        )
    return Assessment(meets, meets or lac_death or leaver_death, tuple(reasons))
