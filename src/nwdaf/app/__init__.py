"""The application: settings with one section per NF, the runtime that builds and serves the NFs, the CLI
(``nwdaf run``, ``nwdaf demo``, ``nwdaf detect``, ``nwdaf ml``, ``nwdaf testbed``). The only layer that may import
every NF; nothing imports it."""
