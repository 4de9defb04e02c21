"""Models and inference: one module per task, each returning typed results.

Importing this package loads no weights; models load lazily through `services.models`.
"""
