"""Composition root: the campaign model, the conductor and the ``anef-harness`` CLI.

Thin by design: it parses options into typed settings and calls one function of another
package; it holds no domain logic.
"""
