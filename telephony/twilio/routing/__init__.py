"""Routing for Twilio queues: our own ACD, since Twilio only holds callers in line.

``decide`` picks callers and agents and claims them in PostgreSQL; ``ringing`` asks
Twilio to ring the claimed agents and follows the offers through the webhooks;
``strategy`` orders the candidates as app_queue's strategies do. docs/twilio.md.
"""
