"""The closed-loop demo (``make demo`` = ``nwdaf demo``): UPF → collection → processing → engine → NBI → SMF."""
