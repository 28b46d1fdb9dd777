"""Setting up a real organization from a file: people, agents, queues, dispositions.

``schema`` is the file's shape (TOML; checked strictly, so a misspelt key is an error,
not a silent default); ``apply`` writes it through the same serializers and services
as the REST API, so the same rules hold. The PBX connection sections and the command
itself are telephony's (telephony/onboarding.py, ``manage.py onboard``): this package
knows nothing of Asterisk or Twilio. docs/going-live.md walks through it.
"""
