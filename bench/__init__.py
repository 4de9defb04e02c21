"""Benchmarks of the playground on full-size random-weight copies of its default models: `python -m bench`
(see __main__.py for the options, suite.py for what is measured, in which order)."""
