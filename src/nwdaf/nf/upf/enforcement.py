"""What a PDU session release does outside the data plane: nothing, or an nftables drop rule (testbed).

The data plane already drops and counts a released UE's packets; in the testbed the UPF namespace really forwards
packets, so the release also installs a drop rule there, and the UE's traffic stops (curl and ping fail).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from nwdaf.lib.testbed.netns import nft_block, nft_unblock

log = logging.getLogger("nwdaf.upf.enforcement")


class Enforcer(Protocol):
    """Blocks and unblocks a UE address; both are idempotent."""

    name: str

    async def block(self, address: str) -> None: ...

    async def unblock(self, address: str) -> None: ...


class NoEnforcer:
    """The data plane's drop is the only enforcement."""

    name = "none"

    async def block(self, address: str) -> None:
        return None

    async def unblock(self, address: str) -> None:
        return None


class NftEnforcer:
    """Drop rules in the ``inet nwdaf_upf`` table of network namespace ``netns`` (made by the testbed)."""

    def __init__(self, netns: str) -> None:
        self.netns = netns
        self.name = f"nft:{netns}"
        self.blocked: set[str] = set()

    async def block(self, address: str) -> None:
        if address in self.blocked:
            return
        await asyncio.to_thread(nft_block, self.netns, address)
        self.blocked.add(address)
        log.info("nft drop rule installed for %s in %s", address, self.netns)

    async def unblock(self, address: str) -> None:
        if address not in self.blocked:
            return
        await asyncio.to_thread(nft_unblock, self.netns, address)
        self.blocked.discard(address)


def create_enforcer(spec: str) -> Enforcer:
    """``none`` or ``nft:NETNS`` (validated by :class:`nwdaf.nf.upf.config.UpfConfig`)."""
    if spec == "none":
        return NoEnforcer()
    kind, _, netns = spec.partition(":")
    if kind != "nft" or not netns:
        raise ValueError(f"enforcement must be 'none' or 'nft:NETNS', got {spec!r}")
    return NftEnforcer(netns)
