"""Samskapa: a real-time, self-hosted workshop board for reflecting on service logic."""
