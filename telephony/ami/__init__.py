"""Asterisk Manager Interface: the wire format (frames) and a simulator of Asterisk 20."""
