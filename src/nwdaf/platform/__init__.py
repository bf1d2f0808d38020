"""What every NF stands on: the event bus (``bus``), the service-based interface (``sbi``: server, client,
ProblemDetails), the 3GPP wire models (``models``), the bus events (``events``), the core settings (``config``),
the NF service protocol and context (``nf``). Imports nothing else of the project."""
