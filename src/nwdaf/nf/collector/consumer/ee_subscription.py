"""What every event exposure consumer shares: subscribe on start, unsubscribe on stop, re-subscribe what was lost.

The three producers the collector subscribes to differ only in their subscription body and in how a lost
subscription shows: Nupf_EventExposure (TS 29.564) has no read operation, so silence over several reporting
periods is the sign; Nsmf_EventExposure (TS 29.508) answers a read of the subscription with 404 once it is gone;
Namf_EventExposure (TS 29.518) answers the modification that refreshes the subscription's expiry with 404. A
peer that does not answer at all is not taken as a loss: it may come back with its subscriptions intact, and a
second subscription would duplicate every notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar

from nwdaf.platform.sbi import SbiCallError, SbiClient

log = logging.getLogger("nwdaf.collector")


class EeSubscriptionError(RuntimeError):
    """The producer refused the subscription or could not be reached."""


class Liveness(Enum):
    """What a check found out about a subscription."""

    ALIVE = "alive"
    GONE = "gone"
    """The producer no longer has it (answered 404, or went silent where silence is the only sign)."""
    UNKNOWN = "unknown"
    """The producer did not answer the check; it is asked again at the next one."""


@dataclass
class EeSubscription(ABC):
    """One subscription to an NF's event exposure, kept alive by :meth:`keep_alive`."""

    client: SbiClient
    api_root: str
    resource_uri: str | None = field(default=None, init=False)
    """The subscription's resource (``Location`` of the 201), None while not subscribed."""
    resubscriptions: int = field(default=0, init=False)
    """Subscriptions created to replace one the producer lost."""
    last_notification: float = field(default_factory=time.monotonic, init=False)
    _replacing: bool = field(default=False, init=False)

    peer: ClassVar[str] = "NF"
    collection: ClassVar[str] = ""
    """Path of the subscriptions collection under the API root (``/nsmf-event-exposure/v1/subscriptions``)."""

    @property
    @abstractmethod
    def correlation_id(self) -> str:
        """The correlation id the producer puts in every notification of this subscription."""

    @property
    @abstractmethod
    def check_interval_s(self) -> float:
        """How often :meth:`keep_alive` checks the subscription."""

    @abstractmethod
    def body(self) -> dict[str, Any]:
        """The wire body of the create request (built anew for each attempt)."""

    @abstractmethod
    async def liveness(self) -> Liveness:
        """Whether the producer still holds the subscription (called only while subscribed)."""

    def resource_url(self) -> str:
        uri = self.resource_uri or ""
        return uri if uri.startswith(("http://", "https://")) else self.api_root + uri

    async def create(self) -> str:
        """Subscribe; the resource URI is kept for checks and the unsubscribe."""
        try:
            resp = await self.client.post(self.api_root + self.collection, json=self.body())
        except SbiCallError as exc:
            raise EeSubscriptionError(f"{self.peer} at {self.api_root} unreachable: {exc}") from exc
        if resp.status_code != 201 or "location" not in resp.headers:
            raise EeSubscriptionError(f"{self.peer} at {self.api_root} answered {resp.status_code}: {resp.text[:300]}")
        self.resource_uri = resp.headers["location"]
        self.last_notification = time.monotonic()
        log.info("subscribed to %s event exposure at %s (%s)", self.peer, self.api_root, self.resource_uri,
                 extra={"subscription_id": self.resource_uri, "correlation_id": self.correlation_id})
        return self.resource_uri

    async def delete(self) -> None:
        """Unsubscribe, best effort (a producer that is gone or forgot the subscription is fine)."""
        if self.resource_uri is None:
            return
        with contextlib.suppress(SbiCallError):
            await self.client.delete(self.resource_url(), retries=0)
        self.resource_uri = None

    def seen(self) -> None:
        """A notification of this subscription arrived."""
        self.last_notification = time.monotonic()

    async def check(self) -> None:
        """One watchdog step: re-subscribe when the producer lost the subscription, or subscribe when not yet."""
        if self.resource_uri is not None:
            if await self.liveness() is not Liveness.GONE:
                return
            log.warning("%s at %s lost subscription %s: re-subscribing", self.peer, self.api_root, self.resource_uri,
                        extra={"correlation_id": self.correlation_id})
            self._replacing = True
            await self.delete()
        try:
            await self.create()
        except EeSubscriptionError as exc:
            log.warning("subscription to %s failed, will retry: %s", self.peer, exc)
            return
        if self._replacing:
            self._replacing = False
            self.resubscriptions += 1

    async def keep_alive(self) -> None:
        """Watchdog loop: :meth:`check` every :attr:`check_interval_s` until cancelled."""
        while True:
            await asyncio.sleep(self.check_interval_s)
            await self.check()

    async def probe(self, method: str, **kwargs: Any) -> Liveness:
        """A request on the subscription resource: 2xx alive, 404 gone, anything else unknown."""
        try:
            resp = await self.client.request(method, self.resource_url(), retries=0, **kwargs)
        except SbiCallError as exc:
            log.debug("%s at %s did not answer the check: %s", self.peer, self.api_root, exc)
            return Liveness.UNKNOWN
        if resp.status_code == 404:
            return Liveness.GONE
        if 200 <= resp.status_code < 300:
            return Liveness.ALIVE
        log.warning("%s at %s answered the check with %d: %s", self.peer, self.api_root, resp.status_code,
                    resp.text[:300])
        return Liveness.UNKNOWN


def nf_instance_id(instance_name: str) -> str:
    """A stable NfInstanceId (UUID, TS 29.571) derived from the configured instance name."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{instance_name}.nwdaf"))
