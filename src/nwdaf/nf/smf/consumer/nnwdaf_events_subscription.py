"""Client of Nnwdaf_EventsSubscription (TS 29.520 clause 5.1): subscribe, update, unsubscribe."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from nwdaf.platform.models import NnwdafEventsSubscription, from_wire, to_wire
from nwdaf.platform.sbi import SbiCallError, SbiClient

API_NAME = "nnwdaf-eventssubscription/v1"


class NwdafError(RuntimeError):
    """The NWDAF could not be reached, refused the request, or answered something unusable."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class NwdafSubscription:
    """A subscription the NWDAF accepted: its resource URI and the NWDAF's representation of it."""

    location: str
    body: NnwdafEventsSubscription

    @property
    def subscription_id(self) -> str:
        return self.location.rstrip("/").rsplit("/", 1)[-1]


class NnwdafEventsSubscriptionClient:
    """One NWDAF's Nnwdaf_EventsSubscription service."""

    def __init__(self, client: SbiClient, api_root: str) -> None:
        self._client = client
        self.collection = f"{api_root.rstrip('/')}/{API_NAME}/subscriptions"

    async def subscribe(self, request: NnwdafEventsSubscription) -> NwdafSubscription:
        try:
            resp = await self._client.post(self.collection, json=to_wire(request))
        except SbiCallError as exc:
            raise NwdafError(str(exc), exc.status) from exc
        if resp.status_code != 201:
            raise NwdafError(f"subscription refused: {resp.status_code} {resp.text[:300]}", resp.status_code)
        location = resp.headers.get("location")
        if not location:
            raise NwdafError("201 without a Location header (TS 29.520 clause 5.1.3.2.3.1)")
        return NwdafSubscription(location, _parse(resp.content))

    async def update(self, location: str, request: NnwdafEventsSubscription) -> NwdafSubscription | None:
        """PUT the subscription; None when the NWDAF no longer has it (404)."""
        try:
            resp = await self._client.put(location, json=to_wire(request))
        except SbiCallError as exc:
            raise NwdafError(str(exc), exc.status) from exc
        if resp.status_code == 404:
            return None
        if resp.status_code == 204:
            return NwdafSubscription(location, request)
        if resp.status_code != 200:
            raise NwdafError(f"update refused: {resp.status_code} {resp.text[:300]}", resp.status_code)
        return NwdafSubscription(location, _parse(resp.content))

    async def unsubscribe(self, location: str) -> None:
        try:
            resp = await self._client.delete(location)
        except SbiCallError as exc:
            raise NwdafError(str(exc), exc.status) from exc
        if resp.status_code not in (204, 404):
            raise NwdafError(f"unsubscribe refused: {resp.status_code} {resp.text[:300]}", resp.status_code)


def _parse(content: bytes) -> NnwdafEventsSubscription:
    try:
        return from_wire(NnwdafEventsSubscription, content)
    except ValidationError as exc:
        raise NwdafError(f"unusable NnwdafEventsSubscription in the response: {exc.errors()[:3]}") from exc
