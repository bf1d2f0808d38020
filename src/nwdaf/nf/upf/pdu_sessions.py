"""PDU session procedures of the N4-like API the SMF drives (ours, not 3GPP; stands in for PFCP, TS 29.244).

Establishment installs the session in the data plane's session table; release marks it RELEASED, after which the
data plane drops and counts the UE's packets, and the enforcer (nftables in the testbed) stops the UE for real.
Release is idempotent, so an SMF may retry it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from nwdaf.lib.dataplane.sessions import PduSession
from nwdaf.lib.dataplane.sessions import Snssai as DpSnssai
from nwdaf.nf.upf.state import UpfContext
from nwdaf.platform.models.common import DateTime, Dnn, Ipv4Addr, Ipv6Prefix, Snssai, Supi, WireModel
from nwdaf.platform.n4 import ConfiguredPduSession, PduSessionEstablishment
from nwdaf.platform.sbi import InvalidParam, ProblemError

log = logging.getLogger("nwdaf.upf.n4")

API_ROOT = "/nupf-n4/v1"
__all__ = ["API_ROOT", "PduSessionEstablishment", "PduSessionInfo", "establish", "establish_configured",
           "get_session", "list_sessions", "release", "session_info"]


class PduSessionInfo(WireModel):
    """A PDU session as the UPF holds it, with the packets dropped since its release."""

    seid: int
    supi: Supi
    pduSessionId: int
    ueIpv4Addr: Ipv4Addr | None = None
    ueIpv6Prefix: Ipv6Prefix | None = None
    snssai: Snssai
    dnn: Dnn
    state: Literal["ACTIVE", "RELEASED"]
    droppedPackets: int
    droppedBytes: int
    forwardedPackets: int
    forwardedBytes: int
    establishedAt: DateTime | None = None
    releasedAt: DateTime | None = None


def _when(ns: int | None) -> datetime | None:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC) if ns else None


def session_info(ctx: UpfContext, s: PduSession) -> PduSessionInfo:
    totals = ctx.accounting.by_session.total
    ul_b, dl_b, ul_p, dl_p = (int(v) for v in totals[s.index]) if s.index < len(totals) else (0, 0, 0, 0)
    return PduSessionInfo(
        seid=s.seid, supi=s.supi, pduSessionId=s.pdu_session_id, ueIpv4Addr=s.ue_ipv4,
        ueIpv6Prefix=s.ue_ipv6_prefix, snssai=Snssai(sst=s.snssai.sst, sd=s.snssai.sd), dnn=s.dnn,
        state="ACTIVE" if s.active else "RELEASED", droppedPackets=s.dropped_packets, droppedBytes=s.dropped_bytes,
        forwardedPackets=ul_p + dl_p, forwardedBytes=ul_b + dl_b, establishedAt=_when(s.established_ns),
        releasedAt=_when(s.released_ns),
    )


async def establish(ctx: UpfContext, req: PduSessionEstablishment) -> PduSessionInfo:
    """Install a PDU session; a UE address, SUPI + PDU session ID already active is a 409 conflict."""
    try:
        s = ctx.sessions.establish(
            req.supi, req.pduSessionId, ue_ipv4=req.ueIpv4Addr, ue_ipv6_prefix=req.ueIpv6Prefix,
            snssai=DpSnssai(req.snssai.sst, req.snssai.sd), dnn=req.dnn, now_ns=time.time_ns(),
        )
    except ValueError as exc:
        raise ProblemError(409, "Conflict", str(exc), "RESOURCE_ALREADY_EXIST",
                           [InvalidParam("/", str(exc))]) from None
    for address in (s.ue_ipv4, s.ue_ipv6_prefix):
        if address is not None:
            await ctx.enforcer.unblock(address)  # the address may have belonged to a released session
    log.info("PDU session established: seid %d, UE %s", s.seid, s.ue_ipv4 or s.ue_ipv6_prefix,
             extra={"supi": s.supi, "pdu_session_id": s.pdu_session_id})
    return session_info(ctx, s)


def establish_configured(ctx: UpfContext, sessions: Sequence[ConfiguredPduSession]) -> list[PduSession]:
    """Install the ``upf.sessions`` of the configuration (at start-up; those already active are kept).

    Raises ``ValueError`` naming the entry (``upf.sessions[i]``) when the data plane refuses one.
    """
    installed = []
    now_ns = time.time_ns()
    for i, req in enumerate(sessions):
        if any(s.active for s in ctx.sessions.find(supi=req.supi, pdu_session_id=req.pduSessionId)):
            continue  # a restarted service keeps its sessions
        try:
            s = ctx.sessions.establish(
                req.supi, req.pduSessionId, seid=req.seid, ue_ipv4=req.ueIpv4Addr, ue_ipv6_prefix=req.ueIpv6Prefix,
                snssai=DpSnssai(req.snssai.sst, req.snssai.sd), dnn=req.dnn, now_ns=now_ns)
        except ValueError as exc:
            raise ValueError(f"upf.sessions[{i}] ({req.supi}): {exc}") from None
        log.info("PDU session established from the configuration: seid %d, UE %s", s.seid,
                 s.ue_ipv4 or s.ue_ipv6_prefix, extra={"supi": s.supi, "pdu_session_id": s.pdu_session_id})
        installed.append(s)
    return installed


def list_sessions(ctx: UpfContext, supi: str | None = None) -> list[PduSessionInfo]:
    return [session_info(ctx, s) for s in ctx.sessions.sessions if supi is None or s.supi == supi]


def _by_seid(ctx: UpfContext, seid: int) -> PduSession:
    # A SEID is reused by nobody, but a released session keeps it: the latest one wins.
    found = [s for s in ctx.sessions.sessions if s.seid == seid]
    if not found:
        raise ProblemError(404, "Not Found", f"no PDU session with SEID {seid}", "CONTEXT_NOT_FOUND")
    return found[-1]


def get_session(ctx: UpfContext, seid: int) -> PduSessionInfo:
    return session_info(ctx, _by_seid(ctx, seid))


async def release(ctx: UpfContext, seid: int) -> PduSessionInfo:
    """Release a session (idempotent): the data plane drops its packets from now on, the enforcer blocks the UE."""
    s = _by_seid(ctx, seid)
    if s.active:
        ctx.sessions.release(seid=seid, now_ns=time.time_ns())
        log.info("PDU session released: seid %d, UE %s", s.seid, s.ue_ipv4 or s.ue_ipv6_prefix,
                 extra={"supi": s.supi, "pdu_session_id": s.pdu_session_id})
    for address in (s.ue_ipv4, s.ue_ipv6_prefix):
        if address is None or any(o.active and address in (o.ue_ipv4, o.ue_ipv6_prefix)
                                  for o in ctx.sessions.sessions):
            continue
        try:
            await ctx.enforcer.block(address)
        except Exception as exc:
            # The data plane already drops the UE; a retried DELETE retries the rule.
            raise ProblemError(500, "Internal Server Error", f"session released but {ctx.enforcer.name} could "
                               f"not block {address}: {exc}", "SYSTEM_FAILURE") from exc
    return session_info(ctx, s)
