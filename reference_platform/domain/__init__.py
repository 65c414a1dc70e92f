"""Business rules of both offices: accounts, procedures, dossiers, documents, agent work.

Functions here take a database session and plain values, raise DomainError for refusals, and
write outbox messages for anything that must cross the seam. They know nothing of HTTP.
"""
