"""The studio's stylesheet (passed to ``launch(css=...)``).

Text and panel colours come from Gradio's theme variables (``--body-text-color``,
``--background-fill-*``, ``--border-color-primary``), so every panel reads in the light and the dark
theme alike; coloured notices and table rows use translucent tints over the theme's background, with
the theme's text colour. The schematic stays a white sheet with dark ink in both themes (its SVG draws
its own background), and the expert cells set their text colour with their fill.
"""

CSS = """
#model-banner h1 { font-size: 20px; margin: 0; display: inline; }
#model-banner .banner { margin: 0 0 0 14px; display: inline; font-size: 13px; }
#design-message:not(:has(.msg)), #run-notes:not(:has(.panel, .msg)) { display: none; }
#run-buttons { flex-wrap: nowrap; gap: 8px; }
#run-column { gap: 6px; }
#examples button { font-size: 12px !important; padding: 1px 8px !important; min-height: 0 !important; }
#examples { gap: 4px; }
#examples .label, #examples > div:first-child:not(:has(button)) { display: none; }
#repair .info, #repair [data-testid='block-info'] + span { font-size: 11px; }
.msg { padding: 6px 12px; border-radius: 6px; margin: 4px 0; border-left: 4px solid; font-size: 14px;
  color: var(--body-text-color); }
.msg strong { color: inherit; }
.msg-error { background: rgba(217, 48, 37, .14); border-color: #d93025; }
.msg-warning { background: rgba(242, 153, 0, .16); border-color: #f29900; }
.msg-info { background: rgba(26, 115, 232, .13); border-color: #1a73e8; }
.msg-ok { background: rgba(24, 128, 56, .14); border-color: #188038; }
.msg .scores { border-bottom: 1px dotted currentColor; cursor: help; }
.caption { color: var(--body-text-color-subdued); font-size: 12px; margin: 2px 0; }
.msg .caption { display: none; }
.msg:hover .caption, .msg:focus-within .caption { display: block; }
.empty { color: var(--body-text-color-subdued); font-style: italic; margin: 4px 0; }
.grid-table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 4px 0 8px;
  color: var(--body-text-color); }
.grid-table th, .grid-table td { border: 1px solid var(--border-color-primary); padding: 4px 6px; text-align: left;
  vertical-align: top; }
.grid-table th { background: var(--background-fill-secondary); }
.erc tr.sev-fatal td { background: rgba(217, 48, 37, .22); }
.erc tr.sev-major td { background: rgba(242, 140, 40, .22); }
.erc tr.sev-minor td { background: rgba(234, 200, 30, .20); }
.erc tr.sev-warning td { background: rgba(26, 115, 232, .12); }
.erc tr.finding { cursor: pointer; }
.erc tr.finding:hover td, .erc tr.finding:focus td { outline: 1px solid #d32f2f; }
.erc tr.finding.picked td { outline: 2px solid #d32f2f; }
.intent tr.intent-met td:nth-child(3) { color: #2e9d4f; font-weight: 600; }
.intent tr.intent-missing td, .intent tr.intent-not-met td,
.intent tr.intent-out-of-knowledge td { background: rgba(242, 140, 40, .22); }
.intent tr.intent-substituted td { background: rgba(234, 200, 30, .20); }
.intent tr.intent-unchecked td { color: var(--body-text-color-subdued); }
.erc tr.change-fixed td:first-child { color: #2e9d4f; font-weight: 600; }
.erc tr.change-new td:first-child { color: #e5533d; font-weight: 600; }
.panel { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 4px 10px; margin: 4px 0;
  font-size: 13px; color: var(--body-text-color); background: var(--background-fill-secondary); }
.panel ul { margin: 2px 0 2px 18px; padding: 0; }
.progress { position: relative; height: 22px; background: var(--background-fill-secondary); border-radius: 11px;
  overflow: hidden; margin: 4px 0; border: 1px solid var(--border-color-primary); }
.progress-fill { height: 100%; background: linear-gradient(90deg, #3b82f6, #6366f1); transition: width .3s; }
.progress-label { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
  font-size: 13px; font-weight: 600; color: var(--body-text-color);
  text-shadow: 0 0 3px var(--background-fill-primary); }
details.stage { border: 1px solid var(--border-color-primary); border-radius: 6px; margin: 3px 0;
  background: var(--background-fill-primary); color: var(--body-text-color); }
details.stage > summary { display: flex; gap: 8px; align-items: center; padding: 4px 10px; cursor: pointer;
  font-size: 14px; font-weight: 600; list-style: none; white-space: nowrap; overflow: hidden; }
details.stage > summary::-webkit-details-marker { display: none; }
details.stage > summary::before { content: "\\25b8"; color: var(--body-text-color-subdued); }
details.stage[open] > summary::before { content: "\\25be"; }
details.stage .stage-brief { font-weight: 400; color: var(--body-text-color-subdued); overflow: hidden;
  text-overflow: ellipsis; min-width: 0; }
details.stage .stage-body { padding: 2px 10px 8px; }
.stage-running { border-color: #6366f1; box-shadow: 0 0 0 2px rgba(99, 102, 241, .3); }
.stage-no { display: inline-flex; flex: none; width: 20px; height: 20px; border-radius: 10px; background: #6366f1;
  color: #fff; font-size: 12px; align-items: center; justify-content: center; }
.stage-done .stage-no { background: #188038; }
.stage-meta { margin-left: auto; flex: none; color: var(--body-text-color-subdued); font-weight: 400; font-size: 12px; }
pre.reasoning { white-space: pre-wrap; word-break: break-word; max-height: 420px; overflow: auto;
  background: var(--background-fill-secondary); color: var(--body-text-color); padding: 8px 10px; border-radius: 6px;
  font-size: 13px; line-height: 1.45; margin: 0; }
pre.streaming { border-left: 3px solid #6366f1; }
figure.schematic { margin: 0; border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px;
  background: var(--background-fill-primary); color: var(--body-text-color); position: relative; }
figure.schematic figcaption { font-weight: 600; font-size: 14px; margin-bottom: 4px; display: flex; gap: 6px;
  align-items: center; }
figure.schematic .net-name { margin-left: auto; font-weight: 400; font-size: 12px; font-family: ui-monospace, monospace;
  color: var(--body-text-color-subdued); }
.svg-wrap { overflow: hidden; height: clamp(300px, calc(100vh - 450px), 680px); background: #fff; border-radius: 4px;
  touch-action: none; cursor: grab; }
.svg-wrap.panning { cursor: grabbing; }
.svg-wrap svg { width: 100%; height: 100%; display: block; }
.viewer-tools { display: inline-flex; gap: 2px; }
.viewer-tools button { border: 1px solid var(--border-color-primary); border-radius: 4px; padding: 0 7px;
  background: var(--background-fill-secondary); color: var(--body-text-color); font-size: 12px; line-height: 20px;
  cursor: pointer; }
.svg-wrap svg circle.pin { r: 4px; }
.svg-wrap svg .net-hl polyline:not(.hit), .svg-wrap svg .net-hl line { stroke: #ff6d00 !important;
  stroke-width: 3.4 !important; }
.svg-wrap svg .net-hl rect { stroke: #ff6d00 !important; stroke-width: 2 !important; }
.svg-wrap svg circle.pin.net-hl, .svg-wrap svg circle.pin.pin-hl { fill: #ff6d00 !important; r: 4.5px; }
.svg-wrap svg .part.finding-hl rect.chip, .svg-wrap svg .part.finding-hl line,
.svg-wrap svg .part.finding-hl path { stroke: #d32f2f !important; stroke-width: 2.6 !important; }
.svg-wrap svg circle.pin.pin-hl { fill: #d32f2f !important; r: 5px; }
.svg-wrap svg .diff-added rect.chip, .svg-wrap svg .diff-added line, .svg-wrap svg .diff-added path,
.svg-wrap svg .diff-added polyline:not(.hit) { stroke: #188038 !important; stroke-width: 2.6 !important; }
.svg-wrap svg .diff-rewired polyline:not(.hit) { stroke: #7b1fa2 !important; stroke-width: 2.6 !important;
  stroke-dasharray: 6 3; }
.empty-figure { min-height: 120px; }
.expert-grid-wrap { overflow-x: auto; max-width: 100%; }
table.expert-grid { border-collapse: collapse; font-size: 12px; color: var(--body-text-color); }
table.expert-grid th, table.expert-grid td { padding: 2px; text-align: center; }
table.expert-grid th.layer small { display: block; color: var(--body-text-color-subdued); font-weight: 400; }
table.expert-grid select { font-size: 12px; padding: 1px 18px 1px 4px; min-width: 92px;
  background: var(--background-fill-primary); color: var(--body-text-color); }
.cell { position: relative; width: 34px; height: 30px; border-radius: 5px; border: 1px solid #9ca3af;
  background: #f9fafb; color: #111827; cursor: pointer; overflow: hidden; font-size: 12px; padding: 0;
  display: inline-block; line-height: 28px; text-align: center; }
.cell .usage { position: absolute; left: 0; right: 0; bottom: 0; background: rgba(99, 102, 241, .35); }
.cell .id { position: relative; font-weight: 600; color: inherit; }
.cell.on, .cell.on .id { color: #111827; }
.cell.off { background: #374151; border-color: #111827; }
.cell.off, .cell.off .id { color: #f9fafb; }
.cell.off .usage { background: rgba(255, 255, 255, .25); }
.cell.force { background: #fde68a; border: 2px solid #d97706; }
.cell.force, .cell.force .id { color: #78350f; }
.legend .cell { width: 22px; height: 20px; line-height: 18px; cursor: default; vertical-align: middle; }
.legend { font-size: 12px; color: var(--body-text-color); }
.heatmap-wrap { overflow-x: auto; max-width: 100%; border: 1px solid var(--border-color-primary); border-radius: 6px; }
table.heatmap { border-collapse: collapse; font-size: 11px; color: var(--body-text-color); }
table.heatmap th { font-weight: 400; padding: 2px 3px; white-space: pre; cursor: pointer;
  font-family: ui-monospace, monospace; background: var(--background-fill-secondary); }
table.heatmap th.layer { cursor: default; font-weight: 600; }
table.heatmap td.hm { min-width: 18px; height: 20px; text-align: center; color: #fff; cursor: pointer;
  text-shadow: 0 0 2px #000; }
table.heatmap .sel { outline: 2px solid var(--body-text-color); outline-offset: -2px; }
.diff { white-space: pre-wrap; word-break: break-word; font-family: ui-monospace, monospace; font-size: 12px;
  background: var(--background-fill-secondary); color: var(--body-text-color); padding: 6px 8px; border-radius: 6px;
  max-height: 260px; overflow: auto; }
.diff ins { background: rgba(46, 160, 67, .30); text-decoration: none; }
.diff del { background: rgba(229, 83, 61, .28); }
.banner { font-size: 14px; }
.profile-summary ul { margin: 2px 0 2px 18px; padding: 0; font-size: 13px; }
@media (max-width: 900px) {
  .svg-wrap { height: 360px; }
  .cell { width: 28px; }
  table.expert-grid select { min-width: 64px; padding-right: 12px; }
}
"""
