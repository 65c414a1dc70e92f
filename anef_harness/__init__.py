"""Composition root: the campaign model, the conductor and the ``anef-harness`` CLI.

Owns wiring: each command parses its options into typed settings and calls one function of
another package; exit codes and the one-line usage error live in ``exits``; the conductor starts
the target, the load processes and the fault schedule and writes the results folder. It is the
only package that may start the reference platform (``embedded``, ``demo``, ``platform serve``).

Must not hold domain logic: judging is ``checks``', rendering ``dashboards``', drills, the fault
schedule and the dependency relays ``drills``', the benchmarks ``benchmarks``'. Command modules
must not import each other; nothing else in the project imports this package except the
benchmarks, which start the platform as a campaign does.
"""
