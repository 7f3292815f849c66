"""Signed receipts: evidence of a check that an auditor can verify without an account."""
