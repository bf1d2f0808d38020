"""nwdaf.platform."""
