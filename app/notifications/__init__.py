"""Escalation notifications: an outbox in the database, senders (email, webhook), a dispatcher."""
