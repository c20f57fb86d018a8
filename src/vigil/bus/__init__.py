"""Message bus: in-process by default; NATS JetStream for scale-out."""
