"""The reference platform: an ANEF-like service with injectable faults, the system under test.

It owns the applicant front office, the prefecture back office, the sync bridge between them, the
injector and its ledger. It stands on ``contracts`` (the fault catalogue, fault sets, ledger and
admin bodies it shares with the harness) and ``core``. It must not import any harness package: the
harness talks to it only over HTTP.
"""
