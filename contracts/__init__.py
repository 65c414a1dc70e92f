"""What the platform and the harness agree on: the fault catalogue (ids and parameter models), the
fault set a profile or the admin API carries, the ledger entry, and the admin API's bodies.

Both sides may import it; it imports nothing of either side (only ``core``).
"""
