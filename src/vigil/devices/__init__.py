"""Devices: inventory and allocation of tags, home units and protected persons' phones."""
