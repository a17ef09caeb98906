"""Benchmarks: plain scripts that print figures and ratios against peers measured in the
same run. They are not tests and assert no timings (the machine may be shared).

``python -m benchmarks`` runs every ``benchmarks/bench_*.py`` in turn, each in its own
process; ``python -m benchmarks losses import`` runs only the named ones. Each script
also runs on its own: ``python benchmarks/bench_losses.py --help``.
"""
