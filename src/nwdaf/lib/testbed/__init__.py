"""A Linux network-namespace testbed for the UPF: UEs, a UPF router, a DN with servers, benign and bot traffic."""
