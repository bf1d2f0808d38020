"""nwdaf.nf."""
