"""The sync bridge: the only way data crosses between front office and back office.

Each side writes messages to its own outbox in the same transaction as its change; a worker
delivers them to the other side in order, at least once; the receiving side records each
message id in its inbox in the same transaction as the effect, so redelivery changes nothing.
Most documented ANEF defects live here, so this is where their faults fire.
"""
