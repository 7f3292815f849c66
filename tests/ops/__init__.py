"""Tests for app/ops: rate limits, metrics, health, logs, CORS."""
