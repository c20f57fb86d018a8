"""Device gateways: one pure decoder per protocol, plus thin TCP, HTTP and MQTT servers."""
