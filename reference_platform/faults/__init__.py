"""The fault catalogue, the active fault set and the injector that records every firing in the
ledger. Faults change what the platform does; they never change what it says it did."""
