// The studio's page script (loaded once in the page head; every listener is delegated from the
// document, so it keeps working when Gradio redraws a panel):
// - Ctrl+Enter / Cmd+Enter in the request runs it;
// - a schematic panel zooms (wheel, + / -), pans (drag) and fits (fit, double-click);
// - hovering a wire, a net label or a pin lights up its whole net and names it;
// - clicking an ERC finding lights up its pins, parts and net; clicking a part lights up its findings.
(() => {
  "use strict";
  if (window.__studioScript) return;
  window.__studioScript = true;

  document.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    if (!e.target.closest || !e.target.closest("#request")) return;
    e.preventDefault();
    e.stopPropagation();
    const run = document.querySelector("#run");
    if (run && !run.disabled) run.click();
  }, true);

  // -- zoom and pan: the drawing's viewBox is moved; the first one is the "fit" view
  const box = (svg) => {
    if (!svg.dataset.vb0) svg.dataset.vb0 = svg.getAttribute("viewBox") || "0 0 100 100";
    return (svg.getAttribute("viewBox") || svg.dataset.vb0).split(/[\s,]+/).map(Number);
  };
  const setBox = (svg, b) => svg.setAttribute("viewBox", b.map((v) => v.toFixed(1)).join(" "));
  const zoom = (svg, factor, cx, cy) => {
    const [x, y, w, h] = box(svg);
    const [, , w0] = svg.dataset.vb0.split(/[\s,]+/).map(Number);
    const nw = Math.min(Math.max(w * factor, w0 / 12), w0 * 4);
    const k = nw / w;
    const px = cx === undefined ? x + w / 2 : cx;
    const py = cy === undefined ? y + h / 2 : cy;
    setBox(svg, [px - (px - x) * k, py - (py - y) * k, w * k, h * k]);
  };
  const fit = (svg) => { box(svg); svg.setAttribute("viewBox", svg.dataset.vb0); };
  const pointIn = (svg, e) => {
    const m = svg.getScreenCTM();
    if (!m) return [undefined, undefined];
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
    return [p.x, p.y];
  };
  const svgOf = (el) => el.closest("figure.schematic")?.querySelector(".svg-wrap > svg");

  document.addEventListener("click", (e) => {
    const tool = e.target.closest && e.target.closest("[data-zoom]");
    if (!tool) return;
    const svg = svgOf(tool);
    if (!svg) return;
    if (tool.dataset.zoom === "fit") fit(svg);
    else zoom(svg, tool.dataset.zoom === "in" ? 0.8 : 1.25);
  });
  document.addEventListener("dblclick", (e) => {
    const wrap = e.target.closest && e.target.closest(".svg-wrap");
    if (wrap && wrap.firstElementChild) fit(wrap.firstElementChild);
  });
  document.addEventListener("wheel", (e) => {
    const wrap = e.target.closest && e.target.closest(".svg-wrap");
    const svg = wrap && wrap.querySelector(":scope > svg");
    if (!svg) return;
    e.preventDefault();
    const [cx, cy] = pointIn(svg, e);
    zoom(svg, e.deltaY > 0 ? 1.15 : 1 / 1.15, cx, cy);
  }, { passive: false });

  let drag = null;
  let panned = false; // the last press moved the drawing: its click is no part click
  document.addEventListener("pointerdown", (e) => {
    const wrap = e.target.closest && e.target.closest(".svg-wrap");
    const svg = wrap && wrap.querySelector(":scope > svg");
    if (!svg || e.button !== 0) return;
    drag = { svg, wrap, x: e.clientX, y: e.clientY, b: box(svg), moved: false };
    panned = false;
  });
  document.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < 4) return;
    drag.moved = true;
    drag.wrap.classList.add("panning");
    const scale = drag.b[2] / drag.svg.getBoundingClientRect().width;
    setBox(drag.svg, [drag.b[0] - dx * scale, drag.b[1] - dy * scale, drag.b[2], drag.b[3]]);
  });
  document.addEventListener("pointerup", () => {
    if (drag) { drag.wrap.classList.remove("panning"); panned = drag.moved; }
    drag = null;
  });

  // -- nets
  const sel = (value) => (window.CSS && CSS.escape ? CSS.escape(value) : value.replace(/["\\]/g, "\\$&"));
  const nameOf = (svg, text) => {
    const label = svg.closest("figure.schematic")?.querySelector(".net-name");
    if (label) label.textContent = text;
  };
  const clear = (svg, cls) => svg.querySelectorAll("." + cls).forEach((el) => el.classList.remove(cls));
  const lightNet = (svg, net) => {
    clear(svg, "net-hl");
    if (!net) return 0;
    const found = svg.querySelectorAll(`[data-net="${sel(net)}"]`);
    found.forEach((el) => el.classList.add("net-hl"));
    return found.length;
  };

  document.addEventListener("mouseover", (e) => {
    const el = e.target.closest && e.target.closest(".svg-wrap svg [data-net]");
    if (!el) return;
    const svg = el.ownerSVGElement || el.closest("svg");
    const net = el.dataset.net;
    const pins = [...svg.querySelectorAll(`circle.pin[data-net="${sel(net)}"]`)].map((p) => p.dataset.pin);
    lightNet(svg, net);
    nameOf(svg, `net ${net}: ${pins.join(" ")}`);
  });
  document.addEventListener("mouseout", (e) => {
    const el = e.target.closest && e.target.closest(".svg-wrap svg [data-net]");
    if (!el) return;
    const to = e.relatedTarget;
    if (to && to.closest && to.closest("[data-net]") && to.closest("[data-net]").dataset.net === el.dataset.net) return;
    const svg = el.ownerSVGElement || el.closest("svg");
    clear(svg, "net-hl");
    nameOf(svg, svg.dataset.picked || "");
  });

  // -- findings <-> schematic
  const words = (text) => (text || "").split(/\s+/).filter(Boolean);
  const showFinding = (row) => {
    const table = row.closest("table");
    const svg = document.querySelector(row.closest("#erc") ? "#schematic .svg-wrap > svg" : "#steered-schematic .svg-wrap > svg");
    table.querySelectorAll("tr.picked").forEach((r) => r.classList.remove("picked"));
    row.classList.add("picked");
    if (!svg) return;
    clear(svg, "pin-hl");
    clear(svg, "finding-hl");
    const pins = words(row.dataset.pins);
    const refs = new Set([...words(row.dataset.refs), ...pins.map((p) => p.split(".")[0])]);
    pins.forEach((pin) => svg.querySelectorAll(`circle.pin[data-pin="${sel(pin)}"]`).forEach((c) => c.classList.add("pin-hl")));
    refs.forEach((ref) => svg.querySelectorAll(`g.part[data-ref="${sel(ref)}"]`).forEach((g) => g.classList.add("finding-hl")));
    const net = row.dataset.net;
    lightNet(svg, net);
    const rule = row.cells[1] ? row.cells[1].textContent : "finding";
    svg.dataset.picked = `${rule}: ${pins.join(" ") || [...refs].join(" ")}${net ? " on net " + net : ""}`;
    nameOf(svg, svg.dataset.picked);
  };
  document.addEventListener("click", (e) => {
    const row = e.target.closest && e.target.closest("tr.finding");
    if (row) { showFinding(row); return; }
    const part = e.target.closest && e.target.closest(".svg-wrap svg g.part[data-ref]");
    if (!part || panned) return;
    const ref = part.dataset.ref;
    const rows = [...document.querySelectorAll("#erc tr.finding")];
    rows.forEach((r) => r.classList.remove("picked"));
    const mine = rows.filter((r) => words(r.dataset.refs).includes(ref) || words(r.dataset.pins).some((p) => p.split(".")[0] === ref));
    mine.forEach((r) => r.classList.add("picked"));
    const svg = part.ownerSVGElement;
    svg.dataset.picked = `${ref}: ${mine.length} finding(s)` + (mine.length ? " (marked in the ERC table)" : "");
    nameOf(svg, svg.dataset.picked);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" && e.key !== " ") return;
    const row = e.target.closest && e.target.closest("tr.finding");
    if (!row) return;
    e.preventDefault();
    showFinding(row);
  });
})();
