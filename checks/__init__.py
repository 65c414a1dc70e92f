"""Step outcomes, reconciliation probes, defect detectors, SLOs and the CI gate.

Owns the verdict. Must never read the platform's fault ledger to detect (only to score).
"""
