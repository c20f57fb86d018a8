"""Monitoring centre and probation pages: the live queue, alerts, caseload status, maps, orders."""
