"""The validation gate in front of real robots.

Field mode refuses a scenario whose latest pre-validation failed, is missing, or was made for another content hash
(the scenario, its site or a robot profile changed since). Sim mode is always allowed. An explicit override (who,
why) lets a refused field trial start and yields a `validation_override` TrialEvent that records it.
A warn verdict passes the gate (only fail refuses), as `ValidationReport.passed` defines.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from humanoid_trials.dispatch.errors import GateError
from humanoid_trials.model.events import EventKind, TrialEvent

HASH_CHARS = 12
"""Characters of a content hash shown in messages."""


class TrialMode(StrEnum):
    SIM = "sim"
    FIELD = "field"


class ValidationLike(Protocol):
    """What the gate reads of a validation (e.g. `humanoid_trials.model.validation.ValidationReport`)."""

    @property
    def verdict(self) -> str: ...

    @property
    def content_hash(self) -> str: ...


@dataclass(frozen=True)
class Override:
    """A person's explicit decision to run a field trial despite the gate."""

    who: str
    why: str


@dataclass(frozen=True)
class GateDecision:
    """allowed: the trial may start; reason: why (or why not); event: the validation_override event, if used."""

    allowed: bool
    reason: str
    event: TrialEvent | None = None


def short(content_hash: str) -> str:
    return content_hash[:HASH_CHARS] if content_hash else "(none)"


def _verdict(latest: ValidationLike) -> str:
    """The verdict as a plain string (accepts an enum such as `Verdict` or a str)."""
    return str(getattr(latest.verdict, "value", latest.verdict))


def _refusal(content_hash: str, latest: ValidationLike | None) -> str:
    """Why field mode refuses, or "" when the latest validation is a pass or warn for this content hash."""
    if latest is None:
        return f"scenario content {short(content_hash)} has never been validated; run `humanoid-trials validate` first"
    if latest.content_hash != content_hash:
        return (
            f"latest validation was for content {short(latest.content_hash)}, but the scenario is now "
            f"{short(content_hash)} (scenario, site or robot files changed); validate again"
        )
    if _verdict(latest) == "fail":
        return f"latest validation of content {short(content_hash)} failed; fix the scenario and validate again"
    return ""


def check_gate(
    mode: TrialMode | str,
    content_hash: str,
    latest: ValidationLike | None,
    override: Override | None = None,
    *,
    trial_id: uuid.UUID,
    now: datetime,
) -> GateDecision:
    """Decide whether a trial of a scenario with `content_hash` may start in `mode`.

    Raises GateError for an unknown mode or an override without who/why (user errors, with the expected values).
    """
    try:
        mode = TrialMode(mode)
    except ValueError as exc:
        raise GateError(f"unknown trial mode {mode!r}: expected one of sim, field") from exc
    if override is not None and (not override.who.strip() or not override.why.strip()):
        raise GateError("a validation override needs both who (a person) and why (a reason); got an empty one")
    if mode is TrialMode.SIM:
        return GateDecision(True, "sim mode: the validation gate applies to field trials only")
    refusal = _refusal(content_hash, latest)
    if not refusal:
        verdict = _verdict(latest) if latest is not None else ""
        return GateDecision(True, f"latest validation of content {short(content_hash)}: {verdict}")
    if override is None:
        return GateDecision(False, f"refused: {refusal}")
    event = TrialEvent(
        trial_id=trial_id,
        kind=EventKind.VALIDATION_OVERRIDE,
        payload={
            "who": override.who,
            "why": override.why,
            "mode": mode.value,
            "content_hash": content_hash,
            "validated_hash": latest.content_hash if latest is not None else None,
            "validated_verdict": _verdict(latest) if latest is not None else None,
            "refusal": refusal,
        },
        stamp=now,
        event_id=uuid.uuid5(trial_id, "validation_override"),
    )
    return GateDecision(True, f"overridden by {override.who} ({override.why}); gate said: {refusal}", event)
