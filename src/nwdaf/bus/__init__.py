"""Event bus: a small Protocol with an in-process backend (embedded default) and a Kafka backend."""

from nwdaf.bus.envelope import Envelope, EnvelopeError, decode, encode
from nwdaf.bus.factory import BusConfigError, create_bus
from nwdaf.bus.memory import InMemoryBus
from nwdaf.bus.protocol import EventBus, Handler, Message, SubscribeOptions, Subscription

__all__ = [
    "BusConfigError",
    "Envelope",
    "EnvelopeError",
    "EventBus",
    "Handler",
    "InMemoryBus",
    "Message",
    "SubscribeOptions",
    "Subscription",
    "create_bus",
    "decode",
    "encode",
]
