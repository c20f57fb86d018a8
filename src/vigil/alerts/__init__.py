"""Alerts: lifecycle, routing, escalation, the delivery outbox and its channels."""
