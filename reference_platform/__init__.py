"""The reference platform: an ANEF-like service with injectable faults, the system under test.

It owns the applicant front office, the prefecture back office, the sync bridge between them,
the fault catalogue and its ledger. It must not import any harness package: the harness talks
to it only over HTTP.
"""
