"""What the audit reports: named findings (failures) and notes (facts worth knowing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CHECKS = {
    "decode": "every row decodes with today's code",
    "codec": "every row re-encodes to the JSON stored (no foreign or altered fields)",
    "versions": "stream versions start at 1 and have no gaps",
    "ordering": "positions are unique and increase with each stream's versions",
    "outbox": "every queued reply has exactly one outcome or is on the review queue",
    "wamids": "every inbound wamid is recorded once",
    "webhook_bodies": "every kept raw body matches its digest; dropped ones were announced",
    "projections": "every projection equals a fresh fold of the log",
    "hash_chain": "every sealed row matches its chained hash",
    "snapshots": "every stored conversation snapshot equals a fresh fold of its stream",
}
"""Each check by the name findings carry, with what it asserts."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed assertion: the check's name and what is wrong, naming the row."""

    check: str
    message: str

    def to_json(self) -> dict[str, str]:
        """``{"check", "message"}``."""
        return {"check": self.check, "message": self.message}


@dataclass(slots=True)
class AuditReport:
    """The audit's outcome; ``ok`` when there is no finding."""

    events: int = 0
    last_position: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not self.findings

    def add(self, check: str, message: str) -> None:
        """Record a finding of ``check``."""
        self.findings.append(Finding(check, message))

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object (the ``--json`` output)."""
        return {
            "ok": self.ok,
            "events": self.events,
            "last_position": self.last_position,
            "seconds": round(self.seconds, 3),
            "checks": CHECKS,
            "findings": [f.to_json() for f in self.findings],
            "notes": self.notes,
        }

    def lines(self) -> list[str]:
        """The report for a terminal: one line per finding, then a verdict."""
        out = [f"audit: {self.events} events up to position {self.last_position}"]
        out += [f"  note: {n}" for n in self.notes]
        out += [f"  FAIL [{f.check}] {f.message}" for f in self.findings]
        verdict = "OK" if self.ok else f"{len(self.findings)} finding(s)"
        out.append(f"audit: {verdict} in {self.seconds:.2f} s")
        return out
