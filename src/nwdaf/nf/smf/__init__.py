"""SMF policy consumer: subscribes to NWDAF abnormal-behaviour analytics and releases misbehaving UEs' PDU
sessions through the UPF (the closed loop of seed 003)."""
