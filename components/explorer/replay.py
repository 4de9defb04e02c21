"""The decoding-step replay: a slider above the heatmap and its charts, stepped by drag, arrow keys, the
number box, or a play button that advances one step a second."""

from __future__ import annotations

import json

import gradio as gr


def build(slider_id: str) -> gr.Slider:
    """The step slider (shown for runs that decode) and its play button, in one row."""
    with gr.Row(equal_height=True, elem_classes="step-row"):
        step = gr.Slider(
            1,
            2,
            value=1,
            step=1,
            label="Decoding step (arrow keys step through)",
            visible=False,
            interactive=True,
            elem_id=slider_id,
            scale=8,
        )
        # Not an output (the API's outputs stay as they are): page.css hides it while the slider is hidden.
        play = gr.Button("▶ Play / pause", size="sm", scale=1, min_width=120, elem_classes="play")
    play.click(None, js=play_js(slider_id))
    return step


def play_js(slider_id: str) -> str:
    """JS for the play button: step the slider one step a second (as an arrow key would), until its end or
    a second click. The slider's own input event redraws."""
    return (
        "() => {"
        f" const root = document.getElementById({json.dumps(slider_id)});"
        " const range = root && root.querySelector('input[type=range]');"
        " if (!range) return;"
        " const stop = () => { clearInterval(window.__playing); window.__playing = null; };"
        " if (window.__playing) { stop(); return; }"
        " window.__playing = setInterval(() => {"
        "  if (Number(range.value) >= Number(range.max)) { stop(); return; }"
        "  range.value = String(Number(range.value) + 1);"
        "  range.dispatchEvent(new Event('input', {bubbles: true}));"
        "  range.dispatchEvent(new Event('change', {bubbles: true}));"
        " }, 1000);"
        " }"
    )
