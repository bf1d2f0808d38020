"""nwdaf.lib.storage."""
