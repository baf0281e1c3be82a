"""The interfaces: the studio page (Gradio: views, their HTML and charts, the per-session state behind
them) and the command line (``ui.cli``)."""
