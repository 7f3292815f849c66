"""Helpers shared by tests: a local HTTP server (httpserver) and synthetic registers (sitegen)."""
