"""Stages and states of the pipeline (DESIGN.md "opportunities", seed 002: the seven stages)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Stage(models.TextChoices):
    PROSPECTING = "prospecting", _("Prospecting")
    QUALIFICATION = "qualification", _("Qualification")
    NEEDS_ANALYSIS = "needs_analysis", _("Needs analysis")
    PROPOSAL = "proposal", _("Proposal")
    NEGOTIATION = "negotiation", _("Negotiation")
    WON = "won", pgettext_lazy("opportunity stage", "Won")
    LOST = "lost", pgettext_lazy("opportunity stage", "Lost")


# The forward order of the open stages; each forward move goes to the next one.
OPEN_STAGES = (
    Stage.PROSPECTING,
    Stage.QUALIFICATION,
    Stage.NEEDS_ANALYSIS,
    Stage.PROPOSAL,
    Stage.NEGOTIATION,
)
CLOSED_STAGES = (Stage.WON, Stage.LOST)


def previous_stage(stage: str) -> str | None:
    """The open stage before `stage` (None for the first and for closed stages)."""
    if stage not in OPEN_STAGES:
        return None
    index = OPEN_STAGES.index(stage)
    return OPEN_STAGES[index - 1] if index else None


def next_stage(stage: str) -> str | None:
    """The stage a forward move from `stage` reaches (won after negotiation)."""
    if stage not in OPEN_STAGES:
        return None
    index = OPEN_STAGES.index(stage)
    return OPEN_STAGES[index + 1] if index + 1 < len(OPEN_STAGES) else Stage.WON


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
