"""The master-capacity benchmark's two child processes: one real master (``scenarios.channel.Master``
on Locust's ``MasterRunner``) and the simulated workers that feed it (``roles.py``).

``benchmarks/master_capacity.py`` starts them (alone or from ``anef-harness bench``). Must not
import test code.
"""
