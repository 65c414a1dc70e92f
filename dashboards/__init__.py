"""Prometheus metrics and rules, Grafana dashboards and the HTML campaign report.

Owns how results are shown. Must not compute verdicts of its own.
"""
