"""nwdaf.app."""
