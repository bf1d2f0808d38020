"""nwdaf.lib."""
