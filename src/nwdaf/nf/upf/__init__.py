"""User Plane Function: data plane tap, PDU sessions, usage accounting (TS 29.564 event exposure source)."""
