"""Twilio at the edge: signed webhooks in, telephony events out; REST actions back.

- ``signature``: which account a request claims to come from, and whether it is signed.
- ``params``: the fields of a Twilio voice request we use, checked and typed.
- ``translator``: a parsed request (and our own query parameters) -> telephony events.
- ``twiml`` / ``callbacks``: the TwiML we answer with and the callback URLs in it.
- ``views`` / ``urls``: the thin webhooks; ``actions``: hang up, connect, transfer, originate.

Nothing here writes but through ``contactcenter.services.telephony.telephony_apply``.
"""
