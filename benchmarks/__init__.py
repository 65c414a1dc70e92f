"""The project's benchmarks: each script measures one thing beside a reference measured in the same
run; ``suite`` sizes them for ``anef-harness bench`` and ``table`` renders the figures.

Owns the measurements and their table. The benchmarks start the platform and campaigns as a user
would (they may import any package of the project, ``anef_harness``'s start-up included); only the
``bench`` command imports them. They must not import test code (what the tests share with them
lives in ``benchmarks.support``), and nothing here may edit ``sys.path``. Speed targets live here,
never in tests.
"""
