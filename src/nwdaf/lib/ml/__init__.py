"""The provisioned model as NFs share it: the MTLF writes a :class:`~nwdaf.lib.ml.bundle.ModelBundle`, the AnLF's
engines load it into a :class:`~nwdaf.lib.ml.holder.ModelHolder` (checksum-verified, hot-swapped)."""
