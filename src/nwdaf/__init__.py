"""nwdaf: a Network Data Analytics Function (3GPP TS 23.288 / TS 29.520) with closed-loop control."""

__version__ = "0.1.0"
__all__ = ["__version__"]
