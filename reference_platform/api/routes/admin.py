"""The admin API (faults, ledger, clock, bulk seeding), token-protected, for the harness."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, ValidationError
from starlette.concurrency import run_in_threadpool

from contracts.admin import ClockIn, ClockOut, Ledger, LedgerEntry, SeedResult
from contracts.fault_set import FaultSet
from contracts.faults import CATALOGUE
from core.describe import describe
from reference_platform.api.deps import Context, require_admin
from reference_platform.api.one_hop import OneHopRoute
from reference_platform.api.routes import ERRORS
from reference_platform.domain.seeding import AgentSeed, ApplicantSeed, SeedRecord, seed_batch
from reference_platform.errors import InvalidInput

router = APIRouter(
    route_class=OneHopRoute, prefix="/_admin", tags=["admin"], dependencies=[Depends(require_admin)], responses=ERRORS
)

SEED_BATCH = 2_000


@router.get("/faults")
def get_faults(ctx: Context) -> dict[str, object]:
    return {
        "catalogue": list(CATALOGUE),
        "faults": [spec.model_dump(mode="json", exclude_none=True) for spec in ctx.faults.active.faults],
    }


@router.put("/faults")
def put_faults(body: FaultSet, ctx: Context) -> dict[str, object]:
    ctx.faults.replace(body)
    return get_faults(ctx)


@router.get("/ledger", response_model=Ledger)
def ledger(
    ctx: Context,
    since: Annotated[AwareDatetime | None, Query(description="entries at or after this time")] = None,
) -> Ledger:
    entries = ctx.faults.ledger(since)
    return Ledger(
        entries=[
            LedgerEntry(time=e.time, fault=e.fault, applicant=e.applicant, object=e.object, route=e.route)
            for e in entries
        ],
        draws=ctx.faults.draws() if since is None else {},
    )


@router.get("/clock", response_model=ClockOut)
def get_clock(ctx: Context) -> ClockOut:
    return ClockOut(today=ctx.clock.today(), fixed=ctx.clock.is_set)


@router.put("/clock", response_model=ClockOut)
def set_clock(body: ClockIn, ctx: Context) -> ClockOut:
    ctx.clock.set_today(body.today)
    return get_clock(ctx)


@router.post(
    "/seed",
    response_model=SeedResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            "description": 'One JSON record a line: {"type": "applicant", …} or {"type": "agent", …}.',
        }
    },
)
async def seed(request: Request, ctx: Context) -> SeedResult:
    """Stream records in, one JSON object a line, committed in batches; safe to resend."""
    totals = [0, 0, 0]
    batch: list[ApplicantSeed | AgentSeed] = []
    line_no = 0
    pending = b""

    async def flush() -> None:
        added = await run_in_threadpool(seed_batch, ctx, list(batch))
        for i, value in enumerate(added):
            totals[i] += value
        batch.clear()

    async for chunk in request.stream():
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            line_no += 1
            if raw.strip():
                batch.append(_parse(raw, line_no))
        if len(batch) >= SEED_BATCH:
            await flush()
    if pending.strip():
        batch.append(_parse(pending, line_no + 1))
    if batch:
        await flush()
    return SeedResult(applicants=totals[0], agents=totals[1], skipped=totals[2])


def _parse(raw: bytes, line_no: int) -> ApplicantSeed | AgentSeed:
    try:
        # Decoded as UTF-8 first: json.loads on bytes guesses UTF-16 or UTF-32 from NUL bytes, and a
        # line it cannot decode would be a 500.
        return SeedRecord.validate_python(json.loads(raw.decode("utf-8")))
    except UnicodeDecodeError:
        raise InvalidInput("body", f"line {line_no}: not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput("body", f"line {line_no}: not JSON ({exc.msg})") from None
    except ValidationError as exc:
        raise InvalidInput("body", f"line {line_no}: {describe(exc)}") from None


@router.get("/sync")
def sync_status(request: Request) -> dict[str, int]:
    """Messages still waiting to cross the seam (delayed ones included)."""
    return {"pending": request.app.state.bridge.pending()}
