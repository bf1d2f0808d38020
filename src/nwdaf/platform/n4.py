"""Models of the UPF's N4-like API (``POST /nupf-n4/v1/pdu-sessions``), shared by the UPF that serves it, its
``upf.sessions`` configuration and any SMF that establishes sessions over it.

The N4 reference point is PFCP (TS 29.244); this HTTP rendering carries the session establishment attributes the
UPF needs (SUPI, PDU session ID, UE address, S-NSSAI, DNN, SEID). Not a 3GPP schema, hence outside
:mod:`nwdaf.platform.models` (whose every model is checked against the 3GPP YAML); a leaf module.
"""

from __future__ import annotations

import ipaddress
from typing import Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from nwdaf.platform.models.common import Dnn, Ipv4Addr, Ipv6Prefix, Snssai, Supi, WireModel


class PduSessionEstablishment(WireModel):
    """Body of ``POST /pdu-sessions``: who the session is for and the UE address the SMF allocated."""

    supi: Supi
    pduSessionId: int = Field(ge=1, le=15)  # TS 24.007 clause 11.2.3.1b: PDU session identity values 1..15
    ueIpv4Addr: Ipv4Addr | None = None
    ueIpv6Prefix: Ipv6Prefix | None = None
    snssai: Snssai
    dnn: Dnn = Field(min_length=1)

    @model_validator(mode="after")
    def _has_address(self) -> Self:
        if self.ueIpv4Addr is None and self.ueIpv6Prefix is None:
            raise ValueError("a PDU session needs ueIpv4Addr or ueIpv6Prefix")
        return self


class ConfiguredPduSession(PduSessionEstablishment):
    """A PDU session of ``upf.sessions``, established when the UPF starts (as if an SMF had asked over N4).

    Unknown keys are errors here (a configuration typo must not vanish), unlike on the wire.
    """

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    seid: int | None = Field(None, ge=1, le=2**64 - 1)
    """The session's SEID (TS 29.244 F-SEID, 64 bits); allocated by the UPF when absent."""

    @field_validator("ueIpv6Prefix")
    @classmethod
    def _one_64(cls, v: str | None) -> str | None:
        # TS 23.501 clause 5.8.2.2.2: one /64 prefix is allocated per IPv6 PDU session.
        if v is not None and ipaddress.IPv6Network(v, strict=False).prefixlen != 64:
            raise ValueError(f"ueIpv6Prefix must be a /64, got {v}")
        return v

    def identities(self) -> dict[str, object]:
        """What no two sessions may share: the UE addresses, SUPI + PDU session ID, the SEID."""
        out: dict[str, object] = {"supi+pduSessionId": (self.supi, self.pduSessionId)}
        if self.ueIpv4Addr is not None:
            out["ueIpv4Addr"] = self.ueIpv4Addr
        if self.ueIpv6Prefix is not None:
            out["ueIpv6Prefix"] = ipaddress.IPv6Network(self.ueIpv6Prefix, strict=False)
        if self.seid is not None:
            out["seid"] = self.seid
        return out
