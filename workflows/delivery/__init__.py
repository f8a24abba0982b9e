"""Getting word out: the outbox, what an automation is told, deliveries given up on."""
