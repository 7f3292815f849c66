"""The W3C Reconciliation API (version 0.2) for OpenRefine: the protocol only; every answer
comes from app/checks (the same decision path as /v1/check) or the snapshot."""
