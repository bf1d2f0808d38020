"""NWDAF data collection: consumers of NF event exposure and the Data Receiver that feeds the bus."""
