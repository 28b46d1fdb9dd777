"""Database plumbing shared by every package: round trips, prepared statements, retries."""
