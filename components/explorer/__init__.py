"""The attention explorer: one package holding everything it is.

- `widget`: the Gradio component every tab shares, and its events;
- `view`: the controls, parsed once into a frozen `View`;
- `lenses/`: the ways of looking at a run, by name (today: attention), each drawing a `Drawing`;
- `shaping`: the numbers behind the pictures (words, hidden special tokens, head summaries, focus);
- `figures`, `bars`, `summary_figure`: pure Plotly builders; `export`: payloads and files; `inside`: the facts
  panel; `run_store`: the runs a session redraws from, kept on the server within a budget.

No torch here: a run arrives as `services.attention_maps.AttentionMaps`, plain arrays and tokens.
"""

from components.explorer.widget import OUTPUTS, VIEW_OUTPUTS, AttentionExplorer

__all__ = ["OUTPUTS", "VIEW_OUTPUTS", "AttentionExplorer"]
