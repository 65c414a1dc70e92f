"""Synthetic populations (applicants, prefecture agents), their oracle state and the mailbox.

Owns who the applicants are and what is true about them. Must not send load or judge steps.
"""
