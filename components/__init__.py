"""The Gradio UI: one module per tab, plus the shared attention view and plot builders.

Nothing here imports torch or transformers; tabs call `services` and render their results.
"""
