"""Applying facts (contactcenter.facts) to calls, agents and queues.

``telephony_apply`` is the one entry point: the AMI bridge and the Twilio webhooks
hand it a batch of facts, and it applies them in one transaction.
"""

from contactcenter.services.telephony.apply import ApplyResult, telephony_apply

__all__ = ["ApplyResult", "telephony_apply"]
