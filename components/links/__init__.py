"""Links that open a view: a query string names a tab, its inputs, the explorer's settings and `run=1`.

- `query`: a link parsed against the tabs' declarations, and a view's link written (no Gradio events);
- `restore`: a link's explorer settings applied to the run they describe, through the explorer's parsing;
- `registry`: each tab's declaration, the page load that opens a link, and "Link to this view".
"""

from components.links.registry import Links

__all__ = ["Links"]
