"""Benchmarks of the playground on full-size random-weight copies of its default models.

Run `python -m bench --quick` (under 10 minutes on 2 cores) or `python -m bench`; see
bench/__main__.py for the options and bench/suite.py for what is measured, in which order.
"""
