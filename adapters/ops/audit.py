"""``dloop-bot audit``: one read-only pass over the log that checks it and the read side.

The log is read once, in pages, in position order; every row goes through the log checks
(:mod:`adapters.ops.audit_log`), the hash chain (:mod:`adapters.ops.hashchain`) and the
in-memory projection fold (:mod:`adapters.ops.audit_projections`). Nothing is written:
the live tables are only read, in one snapshot taken before the pass. The pass stops at
the last position seen when it starts, so traffic arriving meanwhile is not half-checked.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from adapters.ops.audit_log import LogChecks
from adapters.ops.audit_projections import ProjectionCheck, snapshot
from adapters.ops.audit_snapshots import check_snapshots
from adapters.ops.findings import AuditReport
from adapters.ops.hashchain import ChainVerifier, load_verifier
from adapters.ops.rawlog import import_all_events, last_position, pages
from adapters.progress import Progress, silent
from adapters.readmodel.registry import all_projections
from adapters.store.event_store import EventStore

DEFAULT_GRACE = timedelta(minutes=2)  # a reply queued this recently may still be sending


async def audit(
    store: EventStore,
    *,
    now: datetime | None = None,
    grace: timedelta = DEFAULT_GRACE,
    page_size: int = 5000,
    progress: Progress = silent,
) -> AuditReport:
    """Run every check (see :data:`adapters.ops.findings.CHECKS`) and report.

    ``progress`` hears the position reached after each page, out of the last position.
    """
    import_all_events()
    started = time.perf_counter()
    report = AuditReport()
    taken = await snapshot(store, all_projections())
    async with store.engines.reader.connect() as conn:
        until = await last_position(conn)
    report.last_position = until
    checks = LogChecks(report=report, queued_before=(now or datetime.now(UTC)) - grace)
    fold = ProjectionCheck(taken)
    chain = await load_verifier(store, until)
    async for page in pages(store.engines, until=until, size=page_size):
        for row in page:
            recorded = checks.decode(row)
            checks.feed(row, recorded)
            if recorded is not None:
                fold.feed(recorded)
        if chain is not None:
            await chain.check_page(page)
        report.events += len(page)
        if page:
            progress(page[-1].position, until)
    checks.finish()
    await fold.identify(store)
    fold.finish(report, until)
    await _finish_chain(chain, report, until)
    await check_snapshots(store, report)
    report.seconds = time.perf_counter() - started
    return report


async def _finish_chain(chain: ChainVerifier | None, report: AuditReport, until: int) -> None:
    if chain is None:
        report.notes.append("hash chain not installed (run `dloop-bot migrate`)")
        return
    await chain.finish()
    for check, message in chain.findings:
        report.add(check, message)
    if chain.sealed_until < until:
        report.notes.append(
            f"hash chain sealed up to position {chain.sealed_until} of {until};"
            " later rows are not covered yet"
        )
