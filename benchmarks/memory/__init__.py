"""The memory benchmark's parts: which process of a run is which, its resident memory sampled
over the run, and the growth of each between two marks (``benchmarks/memory_flat.py`` runs them)."""
