"""NWDAF data processing: the packet -> flow -> feature stages, as pure functions over frames."""
