"""Event bus: a small Protocol with an in-process backend (embedded default) and a Kafka backend."""

from nwdaf.platform.bus.envelope import Envelope, EnvelopeError, decode, encode
from nwdaf.platform.bus.factory import BusConfigError, create_bus
from nwdaf.platform.bus.memory import InMemoryBus
from nwdaf.platform.bus.protocol import EventBus, Handler, Message, SubscribeOptions, Subscription

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
