"""SMF policy consumer: subscribes to NWDAF abnormal-behaviour analytics and releases misbehaving UEs' PDU
sessions through the UPF: the loop NWDAF analytics -> SMF decision -> UPF enforcement (TS 23.288 clause 6.7.5:
the SMF as a consumer of abnormal-behaviour analytics)."""
