"""The studio page (Gradio): views, their HTML and charts, and the per-session state behind them."""
