"""TS 29.571 common data types, the wire-model base class and the (de)serialisation helpers.

Field names are the 3GPP attribute names (camelCase), so ``model.notificationItems`` reads like the TS; only
Python keywords get an alias (``PatchItem.from_`` <-> ``"from"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Protocol, Self, TypeVar
from uuid import UUID

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    StringConstraints,
    TypeAdapter,
    model_serializer,
    model_validator,
)

from nwdaf.platform.models.units import BIT_RATE_PATTERN, PACKET_RATE_PATTERN, TRAFFIC_VOLUME_PATTERN

_T = TypeVar("_T")
_M = TypeVar("_M", bound="WireModel")


class WireModel(BaseModel):
    """Base of every 3GPP wire model.

    Unknown attributes are ignored, not rejected: 3GPP APIs are extensible (TS 29.500 clause 6.6), so a peer
    on a newer version or with vendor extensions may send attributes this code does not know, and attributes
    of the YAML that no procedure here uses are not modelled. Our own field names are kept honest by the
    contract tests, which compare them with the YAML.
    Enumerations are closed ``StrEnum``s: the YAML accepts any string for forward compatibility, but this
    code only acts on values it knows, so an unknown value is a clear validation error, not a silent default.
    """

    model_config = ConfigDict(populate_by_name=True, extra="ignore")


def to_wire(model: BaseModel) -> dict[str, Any]:
    """The JSON object 3GPP expects: aliases, absent (None) attributes omitted, RFC 3339 'Z' date-times."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def to_wire_list(models: Sequence[BaseModel]) -> list[dict[str, Any]]:
    """:func:`to_wire` for a top-level JSON array (e.g. a JSON Patch body)."""
    return [to_wire(m) for m in models]


def from_wire(model: type[_M], payload: bytes | str | Mapping[str, Any]) -> _M:
    """Parse a received body strictly: JSON types must match the schema ("15" is not an integer)."""
    raw = payload if isinstance(payload, bytes | str) else orjson.dumps(payload)
    return model.model_validate_json(raw, strict=True)


# --- simple types (TS 29.571) --------------------------------------------------------------------------------


def format_datetime(value: datetime) -> str:
    """RFC 3339 in UTC with a 'Z' suffix; fractional seconds only when present."""
    if value.tzinfo is None:
        raise ValueError("DateTime needs a timezone (RFC 3339 has no local times)")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


DateTime = Annotated[AwareDatetime, PlainSerializer(format_datetime, return_type=str, when_used="json")]

# [0-9] instead of \d: the YAML patterns are ECMA-262 regexes, where \d is ASCII only.
SUPI_PATTERN = r"^(imsi-[0-9]{5,15}|nai-.+|gci-.+|gli-.+|.+)$"
Supi = Annotated[str, StringConstraints(pattern=SUPI_PATTERN)]
Gpsi = Annotated[str, StringConstraints(pattern=r"^(msisdn-[0-9]{5,15}|extid-[^@]+@[^@]+|.+)$")]
Pei = Annotated[str, StringConstraints(pattern=r"^(imei-[0-9]{15}|imeisv-[0-9]{16}|.+)$")]
GroupId = Annotated[
    str, StringConstraints(pattern=r"^[A-Fa-f0-9]{8}-[0-9]{3}-[0-9]{2,3}-([A-Fa-f0-9][A-Fa-f0-9]){1,10}$")
]
_OCTET = r"([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])"
Ipv4Addr = Annotated[str, StringConstraints(pattern=rf"^({_OCTET}\.){{3}}{_OCTET}$")]
MacAddr48 = Annotated[str, StringConstraints(pattern=r"^([0-9a-fA-F]{2})((-[0-9a-fA-F]{2}){5})$")]
Fqdn = Annotated[
    str,
    StringConstraints(
        min_length=4, max_length=253, pattern=r"^([0-9A-Za-z]([-0-9A-Za-z]{0,61}[0-9A-Za-z])?\.)+[A-Za-z]{2,63}\.?$"
    ),
]
SupportedFeatures = Annotated[str, StringConstraints(pattern=r"^[A-Fa-f0-9]*$")]
Dnn = str
Uri = str
ApplicationId = str
NfSetId = str
FlowDescription = str
NfInstanceId = UUID
TrafficVolume = Annotated[str, StringConstraints(pattern=TRAFFIC_VOLUME_PATTERN)]
BitRate = Annotated[str, StringConstraints(pattern=BIT_RATE_PATTERN)]
PacketRate = Annotated[str, StringConstraints(pattern=PACKET_RATE_PATTERN)]
Uinteger = Annotated[int, Field(ge=0)]
Uint32 = Annotated[int, Field(ge=0, le=2**32 - 1)]
Uint64 = Annotated[int, Field(ge=0, le=2**64 - 1)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
Volume = Annotated[int, Field(ge=0, le=2**63 - 1)]  # TS 29.122 Volume: int64, minimum 0
DurationSec = int
Float = float
SamplingRatio = Annotated[int, Field(ge=1, le=100)]
PduSessionId = Annotated[int, Field(ge=0, le=255)]
NonEmptyList = Annotated[list[_T], Field(min_length=1)]

# RFC 5952 text form; both YAML patterns must match (the first forbids upper case and leading zeros).
_IPV6_SHAPE = r"((:|(0?|([1-9a-f][0-9a-f]{0,3}))):)((0?|([1-9a-f][0-9a-f]{0,3})):){0,6}(:|(0?|([1-9a-f][0-9a-f]{0,3})))"
_IPV6_GROUPS = r"((([^:]+:){7}([^:]+))|((([^:]+:)*[^:]+)?::(([^:]+:)*[^:]+)?))"
_IPV6_ADDR = (re.compile(_IPV6_SHAPE, re.ASCII), re.compile(_IPV6_GROUPS, re.ASCII))
_PREFIX_LEN = r"(\/(([0-9])|([0-9]{2})|(1[0-1][0-9])|(12[0-8])))"
_IPV6_PREFIX = (re.compile(_IPV6_SHAPE + _PREFIX_LEN, re.ASCII), re.compile(_IPV6_GROUPS + r"(\/.+)", re.ASCII))


def _ipv6(patterns: tuple[re.Pattern[str], ...], kind: str) -> AfterValidator:
    def check(value: str) -> str:
        if not all(p.fullmatch(value) for p in patterns):
            raise ValueError(f"{value!r} is not an {kind} in RFC 5952 form (lower case, zeros compressed)")
        return value

    return AfterValidator(check)


Ipv6Addr = Annotated[str, _ipv6(_IPV6_ADDR, "IPv6 address")]
Ipv6Prefix = Annotated[str, _ipv6(_IPV6_PREFIX, "IPv6 prefix")]


# --- enumerations --------------------------------------------------------------------------------------------


class PatchOperation(StrEnum):
    """JSON Patch operations (IETF RFC 6902), TS 29.571 ``PatchOperation``."""

    ADD = "add"
    COPY = "copy"
    MOVE = "move"
    REMOVE = "remove"
    REPLACE = "replace"
    TEST = "test"


class NotificationFlag(StrEnum):
    """TS 29.571 ``NotificationFlag``: mute, unmute or fetch notifications of an event subscription."""

    ACTIVATE = "ACTIVATE"
    DEACTIVATE = "DEACTIVATE"
    RETRIEVAL = "RETRIEVAL"


class PartitioningCriteria(StrEnum):
    """TS 29.571 ``PartitioningCriteria`` for partitioning a group of UEs in event reports."""

    TAC = "TAC"
    SUBPLMN = "SUBPLMN"
    GEOAREA = "GEOAREA"
    SNSSAI = "SNSSAI"
    DNN = "DNN"


class NsmfNotificationMethod(StrEnum):
    """TS 29.508 ``NotificationMethod``, used by ``ReportingInformation.notifMethod`` of every event-exposure
    style API (named apart from TS 29.520's own ``NotificationMethod``: PERIODIC/THRESHOLD)."""

    PERIODIC = "PERIODIC"
    ONE_TIME = "ONE_TIME"
    ON_EVENT_DETECTION = "ON_EVENT_DETECTION"


# --- structured types ----------------------------------------------------------------------------------------


class Snssai(WireModel):
    """S-NSSAI: ``sst`` 0..255 and optional 6-hex-digit ``sd`` (TS 29.571; TS 23.003 clause 28.4.2)."""

    sst: int = Field(ge=0, le=255)
    sd: Annotated[str, StringConstraints(pattern=r"^[A-Fa-f0-9]{6}$")] | None = None

    def to_key(self) -> str:
        """The slice's key (:func:`snssai_key`): ``"1"`` or ``"1-00000a"``."""
        return f"{self.sst}-{self.sd.lower()}" if self.sd else str(self.sst)

    @classmethod
    def from_key(cls, key: str) -> Snssai:
        """The S-NSSAI of a key (``"1"``, ``"1-00000a"``); raises ``ValueError`` for anything else."""
        sst, sep, sd = key.strip().partition("-")
        if not sst.isdigit() or (sep and not sd):
            raise ValueError(f"{key!r} is not an S-NSSAI key (sst or sst-sd)")
        return cls(sst=int(sst), sd=sd.lower() if sd else None)


class SliceLike(Protocol):
    """Anything with an SST and an optional SD (the data plane's own S-NSSAI, for one)."""

    @property
    def sst(self) -> int: ...

    @property
    def sd(self) -> str | None: ...


def snssai_key(snssai: SliceLike | Mapping[str, Any] | str | None) -> str | None:
    """The one key of an S-NSSAI: ``"<sst>"`` or ``"<sst>-<sd>"``, SST in decimal and SD in lower-case hex.

    TS 29.571 clause 5.4.4.2 writes ``Snssai.sd`` as ``^[A-Fa-f0-9]{6}$``: hexadecimal, case-insensitive, so
    ``"0000AB"`` and ``"0000ab"`` name the same slice and must give one key (the ``"<sst>-<sd>"`` string is the
    form TS 29.571 uses for S-NSSAIs in map keys). Accepts the wire model (or any object with ``sst``/``sd``), its
    JSON object (``{"sst": 1, "sd": ...}``) or a key already in string form, which is normalised. None, or an
    object without ``sst``, gives None.
    """
    if snssai is None:
        return None
    if isinstance(snssai, str):
        text = snssai.strip()
        sst_text, _, sd_text = text.partition("-")
        if not sst_text.isdigit():
            return text.lower()
        return f"{int(sst_text)}-{sd_text.lower()}" if sd_text else str(int(sst_text))
    sst: Any
    sd: Any
    if isinstance(snssai, Mapping):
        sst, sd = snssai.get("sst"), snssai.get("sd")
    else:
        sst, sd = snssai.sst, snssai.sd
    if sst is None:
        return None
    return f"{int(sst)}-{str(sd).lower()}" if sd else str(int(sst))


class PlmnId(WireModel):
    """PLMN identity: 3-digit MCC and 2- or 3-digit MNC."""

    mcc: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")]
    mnc: Annotated[str, StringConstraints(pattern=r"^[0-9]{2,3}$")]

    def to_key(self) -> str:
        return f"{self.mcc}-{self.mnc}"


class IpAddr(WireModel):
    """Exactly one of an IPv4 address, an IPv6 address or an IPv6 prefix (TS 29.571 ``IpAddr``)."""

    ipv4Addr: Ipv4Addr | None = None
    ipv6Addr: Ipv6Addr | None = None
    ipv6Prefix: Ipv6Prefix | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [n for n in ("ipv4Addr", "ipv6Addr", "ipv6Prefix") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(f"IpAddr needs exactly one of ipv4Addr, ipv6Addr, ipv6Prefix; got {given or 'none'}")
        return self


class TimeWindow(WireModel):
    """A closed time interval (TS 29.122 ``TimeWindow``)."""

    startTime: DateTime
    stopTime: DateTime

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.stopTime < self.startTime:
            raise ValueError(f"TimeWindow stopTime {self.stopTime} is before startTime {self.startTime}")
        return self


class InvalidParam(WireModel):
    """One invalid attribute: ``param`` is a JSON pointer for body attributes (TS 29.571)."""

    param: str
    reason: str | None = None


class ProblemDetails(WireModel):
    """Error body of every 4xx/5xx response (IETF RFC 7807 as profiled by TS 29.571)."""

    type: Uri | None = None
    title: str | None = None
    status: int | None = None
    detail: str | None = None
    instance: Uri | None = None
    cause: str | None = None
    invalidParams: NonEmptyList[InvalidParam] | None = None
    supportedFeatures: SupportedFeatures | None = None
    nrfId: Fqdn | None = None
    supportedApiVersions: NonEmptyList[str] | None = None


class PatchItem(WireModel):
    """One JSON Patch operation (IETF RFC 6902); a PATCH body is a JSON array of these."""

    op: PatchOperation
    path: str
    from_: str | None = Field(default=None, alias="from")
    value: Any = None

    @model_validator(mode="after")
    def _operands(self) -> Self:
        # RFC 6902 clause 4: add/replace/test carry "value" (which may be null), move/copy carry "from".
        needs_value = self.op in (PatchOperation.ADD, PatchOperation.REPLACE, PatchOperation.TEST)
        if needs_value and "value" not in self.model_fields_set:
            raise ValueError(f"JSON Patch '{self.op}' at {self.path!r} needs a value")
        if self.op in (PatchOperation.MOVE, PatchOperation.COPY) and self.from_ is None:
            raise ValueError(f"JSON Patch '{self.op}' at {self.path!r} needs 'from'")
        return self

    @model_serializer(mode="wrap")
    def _keep_null_value(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if "value" in self.model_fields_set and "value" not in data:
            data["value"] = None  # exclude_none must not turn "replace with null" into "replace with nothing"
        return data


PatchDocument = TypeAdapter(list[PatchItem])


class ReportingInformation(WireModel):
    """Event reporting requirements shared by event-exposure APIs (TS 29.523 ``ReportingInformation``); the
    ``evtReq`` of an NWDAF subscription and the ``eventReq`` of an ML model provision subscription."""

    immRep: bool | None = None
    notifMethod: NsmfNotificationMethod | None = None
    maxReportNbr: Uinteger | None = None
    monDur: DateTime | None = None  # sic: the end of the monitoring duration, a DateTime in the YAML
    repPeriod: DurationSec | None = Field(default=None, ge=1)
    sampRatio: SamplingRatio | None = None
    partitionCriteria: NonEmptyList[PartitioningCriteria] | None = None
    grpRepTime: DurationSec | None = None
    notifFlag: NotificationFlag | None = None

    @model_validator(mode="after")
    def _period_given(self) -> Self:
        # TS 29.523: repPeriod is present when notifMethod is PERIODIC; without it there is no period to use.
        if self.notifMethod is NsmfNotificationMethod.PERIODIC and self.repPeriod is None:
            raise ValueError("repPeriod is required when notifMethod is PERIODIC")
        return self
