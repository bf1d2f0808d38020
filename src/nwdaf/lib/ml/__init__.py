"""nwdaf.lib.ml."""
