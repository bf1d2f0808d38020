"""The bad-row policy on the command line: ``--strict`` and the closing skip summary of every command that reads
recorded traffic (``detect``, ``replay``, ``ml train``, ``ml evaluate``, ``eval``; see :mod:`nwdaf.lib.flows.skips`).

Without ``--strict`` malformed rows are skipped and counted, and the command prints one summary line per input on
stderr when it has read them; with ``--strict`` the first malformed row ends the command with exit code 2 and a
message naming file, line and reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from nwdaf.lib.flows import SkipReport

StrictOpt = Annotated[bool, typer.Option(
    "--strict", help="Fail at the first malformed row (file, line, reason; exit code 2) instead of skipping and "
    "counting it.")]


def echo_skips(label: str, skips: SkipReport) -> None:
    """The closing summary of ``skips`` on stderr, prefixed with ``label`` (the input)."""
    typer.echo(f"{label}: {skips.summary()}", err=True)
