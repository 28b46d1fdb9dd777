"""The audit-writers guard's tables (tests/contactcenter/services/test_audit_writers.py):
the writers of each package, each with a call on a small organization (world.py) and
the audit entry it must leave, and the functions that write nothing of their own."""
