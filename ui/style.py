"""The studio's stylesheet (passed to ``launch(css=...)``)."""

CSS = """
.msg { padding: 8px 12px; border-radius: 6px; margin: 6px 0; border-left: 4px solid; font-size: 14px; }
.msg-error { background: #fdecea; border-color: #d93025; color: #5f1410; }
.msg-warning { background: #fff4e5; border-color: #f29900; color: #4d3000; }
.msg-info { background: #e8f0fe; border-color: #1a73e8; color: #0b2a55; }
.msg-ok { background: #e6f4ea; border-color: #188038; color: #0d3b1c; }
.empty { color: #6b7280; font-style: italic; margin: 4px 0; }
.grid-table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 4px 0 8px; }
.grid-table th, .grid-table td { border: 1px solid #d1d5db; padding: 4px 6px; text-align: left;
  vertical-align: top; }
.grid-table th { background: #f3f4f6; }
.erc tr.sev-fatal td { background: #f8d0cc; }
.erc tr.sev-major td { background: #fde2c4; }
.erc tr.sev-minor td { background: #fdf6c3; }
.erc tr.sev-warning td { background: #e7eefc; }
.intent tr.intent-met td:nth-child(3) { color: #188038; font-weight: 600; }
.intent tr.intent-missing td, .intent tr.intent-not-met td,
.intent tr.intent-out-of-knowledge td { background: #fde2c4; }
.intent tr.intent-substituted td { background: #fdf6c3; }
.intent tr.intent-unchecked td { color: #6b7280; }
.erc tr.change-fixed td:first-child { color: #188038; font-weight: 600; }
.erc tr.change-new td:first-child { color: #d93025; font-weight: 600; }
.progress { position: relative; height: 24px; background: #e5e7eb; border-radius: 12px; overflow: hidden;
  margin: 6px 0; }
.progress-fill { height: 100%; background: linear-gradient(90deg, #3b82f6, #6366f1); transition: width .3s; }
.progress-label { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
  font-size: 13px; font-weight: 600; color: #111827; }
.stage { border: 1px solid #d1d5db; border-radius: 8px; padding: 6px 10px; margin: 6px 0; background: #fff; }
.stage-running { border-color: #6366f1; box-shadow: 0 0 0 2px #e0e7ff; }
.stage h4 { margin: 2px 0 6px; font-size: 14px; display: flex; gap: 8px; align-items: center; }
.stage-no { display: inline-flex; width: 20px; height: 20px; border-radius: 10px; background: #6366f1;
  color: #fff; font-size: 12px; align-items: center; justify-content: center; }
.stage-done .stage-no { background: #188038; }
.stage-meta { margin-left: auto; color: #6b7280; font-weight: 400; font-size: 12px; }
pre.reasoning { white-space: pre-wrap; word-break: break-word; max-height: 220px; overflow: auto;
  background: #f9fafb; padding: 6px 8px; border-radius: 6px; font-size: 12px; margin: 0; }
pre.streaming { border-left: 3px solid #6366f1; }
figure.schematic { margin: 0; border: 1px solid #d1d5db; border-radius: 8px; padding: 6px; background: #fff; }
figure.schematic figcaption { font-weight: 600; font-size: 14px; margin-bottom: 4px; }
.svg-wrap { overflow: auto; max-height: 620px; }
.svg-wrap svg { max-width: 100%; height: auto; }
.empty-figure { min-height: 120px; }
table.expert-grid { border-collapse: collapse; font-size: 12px; }
table.expert-grid th, table.expert-grid td { padding: 2px; text-align: center; }
table.expert-grid th.layer small { display: block; color: #6b7280; font-weight: 400; }
table.expert-grid select { font-size: 12px; padding: 1px 18px 1px 4px; min-width: 92px; }
.cell { position: relative; width: 34px; height: 30px; border-radius: 5px; border: 1px solid #9ca3af;
  background: #f9fafb; cursor: pointer; overflow: hidden; font-size: 12px; padding: 0; display: inline-block;
  line-height: 28px; text-align: center; }
.cell .usage { position: absolute; left: 0; right: 0; bottom: 0; background: rgba(99, 102, 241, .35); }
.cell .id { position: relative; font-weight: 600; }
.cell.off { background: #374151; color: #f9fafb; border-color: #111827; }
.cell.off .usage { background: rgba(255, 255, 255, .25); }
.cell.force { background: #fde68a; border: 2px solid #d97706; color: #78350f; }
.legend .cell { width: 22px; height: 20px; line-height: 18px; cursor: default; vertical-align: middle; }
.legend { font-size: 12px; color: #374151; }
.heatmap-wrap { overflow-x: auto; max-width: 100%; border: 1px solid #e5e7eb; border-radius: 6px; }
table.heatmap { border-collapse: collapse; font-size: 11px; }
table.heatmap th { font-weight: 400; padding: 2px 3px; white-space: pre; cursor: pointer;
  font-family: ui-monospace, monospace; background: #f9fafb; }
table.heatmap th.layer { cursor: default; font-weight: 600; }
table.heatmap td.hm { min-width: 18px; height: 20px; text-align: center; color: #fff; cursor: pointer;
  text-shadow: 0 0 2px #000; }
table.heatmap .sel { outline: 2px solid #111827; outline-offset: -2px; }
.diff { white-space: pre-wrap; word-break: break-word; font-family: ui-monospace, monospace; font-size: 12px;
  background: #f9fafb; padding: 6px 8px; border-radius: 6px; max-height: 260px; overflow: auto; }
.diff ins { background: #c6f6d5; text-decoration: none; }
.diff del { background: #fed7d7; }
.banner { font-size: 14px; }
.profile-summary ul { margin: 2px 0 2px 18px; padding: 0; font-size: 13px; }
"""
