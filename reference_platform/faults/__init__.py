"""The injector: it decides each firing of the faults in force (``contracts.faults``) and records
it in the ledger. Faults change what the platform does; they never change what it says it did."""
