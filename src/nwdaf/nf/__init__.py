"""The network functions, side by side: ``upf``, ``collector``, ``processor``, ``storage``, ``mtlf``, ``anlf``,
``engines``, ``smf``. Each has the same inner shape (``config.py``, ``service.py``, ``api/``, ``processor.py``,
``consumer/``, ``state.py``/``store.py``) and none imports another: they meet only on the bus and the SBI."""
