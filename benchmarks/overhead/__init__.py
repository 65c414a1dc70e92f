"""The harness-overhead benchmark's parts: measures, the four measured sides, the report.

``benchmarks/harness_overhead.py`` runs them (alone or from ``anef-harness bench``). Must not
import test code; the Locust processes it starts import only ``measures``.
"""
