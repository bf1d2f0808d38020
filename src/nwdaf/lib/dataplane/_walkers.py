"""Which record walkers a reader uses: the pure-Python ones of :mod:`._walk` or their numba twins in
:mod:`._walk_numba` (an optional accelerator, imported only when picked)."""

from __future__ import annotations

from collections.abc import Callable

from nwdaf.lib.dataplane._walk import NgWalk, PcapWalk, walk_pcap_py, walk_pcapng_py


class Walkers:
    """The pair of walkers in use (pure Python or numba)."""

    def __init__(self, pcap: Callable[..., PcapWalk], pcapng: Callable[..., NgWalk], name: str) -> None:
        self.pcap = pcap
        self.pcapng = pcapng
        self.name = name


def numba_available() -> bool:
    """True when the optional numba accelerator can be imported."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def walkers(accelerate: bool | None) -> Walkers:
    """Pick walkers: ``None`` = numba when installed, ``True`` = numba (error if missing), ``False`` = Python."""
    use_numba = numba_available() if accelerate is None else accelerate
    if not use_numba:
        return Walkers(walk_pcap_py, walk_pcapng_py, "python")
    if not numba_available():
        raise RuntimeError("accelerate=True needs numba: pip install numba")
    from nwdaf.lib.dataplane import _walk_numba  # numba compiles on import: only when asked for

    return Walkers(_walk_numba.walk_pcap_nb, _walk_numba.walk_pcapng_nb, "numba")
