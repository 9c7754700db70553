// Our canvases (see canvas.py): the latent map, with each test digit's thumbnail under the cursor, and a pad to
// draw a digit on.
//
// One module serves three kinds of mount:
//   - data is bytes: a sprite sheet of test digits (a PNG with a small header), kept in a registry shared by
//     every mount of this page, so the thumbnails travel once per browser session;
//   - data is an object with view "map": a scatter of 2-D points coloured by class, with a legend that hides
//     classes, hover thumbnails drawn from the sprite, a click, a dragged box or a lasso to select. A selectable
//     map reports its hidden classes and its selection as shapes in data coordinates ({box: [x0, y0, x1, y1]},
//     {lasso: [[x, y], ...]}, {row: r}; shift adds a shape), and takes both back from its data (a shared link);
//   - data is an object with view "draw": a 28 x 28 digit drawn with a soft pen, reported on each stroke's end.
// Hovering never talks to the server. Nothing here evaluates strings or fetches anything; text is set with
// textContent only. The root of each view carries data attributes that say what it draws (data-model,
// data-method, data-points, data-fingerprint; data-drawn once drawn), for tests and benchmarks.

import {
  PIXELS, SIDE, describe, drawGrey, element, fittedTicks, mountPoint, mountView, readMessage, requestDraw, tickLabel,
} from "./base.js";

const SPRITE_MAGIC = "VAES";
const HIT_RADIUS = 10; // CSS pixels: how near the cursor a point must be to show its thumbnail
const DRAG_MIN = 4; // CSS pixels a press must move to be a box or lasso selection rather than a click
const LASSO_STEP = 3; // CSS pixels between the lasso's recorded corners
const MAX_PARTS = 8; // shapes in one selection: shift adds one, the oldest goes (canvas.py's MAX_PARTS)
const MAX_CORNERS = 48; // a lasso's path is simplified to at most this many corners (canvas.py's MAX_CORNERS)
const DIGITS = 4; // a shape's coordinates keep about this many significant digits of the plot's span
const RING_MAX = 100; // a selection of at most this many points is also ringed; a larger one shows by the fading
const SELECT_MODES = [["box", "Box", "Drag a rectangle to select"], ["lasso", "Lasso", "Draw around points to select"]];
const THUMB = { full: 84, compact: 56 }; // CSS pixels of a thumbnail: 3 (2 on a compact map) per digit pixel
// The plot's margins in CSS pixels; the left one grows to fit the widest tick label beside the axis title.
const MARGIN = { full: { left: 52, right: 12, top: 10, bottom: 40 }, compact: { left: 34, right: 8, top: 6, bottom: 32 } };
const FONT = { full: { tick: "11px sans-serif", title: "12px sans-serif" },
  compact: { tick: "10px sans-serif", title: "11px sans-serif" } };
const TITLE_BAND = 20; // CSS pixels left of the tick labels for the rotated axis title
const PAD_SCALE = 4; // the pad draws at 4 x 28 = 112 pixels, averaged down to 28 x 28 on each stroke's end
const PEN_WIDTH = 9; // in pad pixels: about 2.3 digit pixels, MNIST's stroke once scaled into its 20-pixel box
const PEN_BLUR = 5; // the Gaussian falloff of the pen's edge, in pad pixels

const registry = (globalThis.__vaeCanvas ??= { sprites: new Map(), listeners: new Set(), maps: new Set() });
// Tests and benchmarks find a test digit's place on screen through the map the page draws.
registry.screenPoint = (row) => {
  for (const map of registry.maps) {
    const at = map.screenPoint(row);
    if (at) return at;
  }
  return null;
};
const views = new WeakMap(); // parentElement -> view, kept across reruns

// --- the sprite sheet -------------------------------------------------------------------------

/** "VAES" | u32 header length (little-endian) | JSON header {id, count, columns} | PNG of count digits. */
async function registerSprite(bytes) {
  const { header, start } = readMessage(bytes, SPRITE_MAGIC);
  const image = await createImageBitmap(new Blob([bytes.slice(start)], { type: "image/png" }));
  registry.sprites.set(header.id, { image, columns: header.columns, count: header.count });
  for (const listener of [...registry.listeners]) listener();
}

// --- small helpers ----------------------------------------------------------------------------

/** Whether (x, y) lies inside the closed polygon [[x, y], ...]: a ray to the right crosses an odd number of edges. */
function insidePolygon(path, x, y) {
  let inside = false;
  for (let i = 0, j = path.length - 1; i < path.length; j = i++) {
    const [xi, yi] = path[i];
    const [xj, yj] = path[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Distance from p to the segment a-b, in the units of the points. */
function segmentDistance([px, py], [ax, ay], [bx, by]) {
  const [dx, dy] = [bx - ax, by - ay];
  const t = dx || dy ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy))) : 0;
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}

/** The corners of ``path`` that matter (Ramer-Douglas-Peucker): none of the dropped ones is over ``tolerance`` away. */
function simplify(path, tolerance) {
  const keep = new Uint8Array(path.length);
  keep[0] = keep[path.length - 1] = 1;
  const spans = [[0, path.length - 1]];
  while (spans.length) {
    const [a, b] = spans.pop();
    let [far, farthest] = [-1, tolerance];
    for (let i = a + 1; i < b; i++) {
      const distance = segmentDistance(path[i], path[a], path[b]);
      if (distance > farthest) [far, farthest] = [i, distance];
    }
    if (far >= 0) {
      keep[far] = 1;
      spans.push([a, far], [far, b]);
    }
  }
  return path.filter((_, i) => keep[i]);
}

/** The box or lasso being dragged: translucent fill, thin outline. */
function drawSelection(context, press) {
  context.fillStyle = "rgba(76, 110, 245, 0.12)";
  context.strokeStyle = "rgba(76, 110, 245, 0.8)";
  context.lineWidth = 1;
  context.beginPath();
  if (press.mode === "lasso") {
    press.path.forEach(([x, y], k) => (k ? context.lineTo(x, y) : context.moveTo(x, y)));
    context.lineTo(...press.to);
    context.closePath();
  } else {
    const [[ax, ay], [bx, by]] = [press.from, press.to];
    context.rect(Math.min(ax, bx), Math.min(ay, by), Math.abs(bx - ax), Math.abs(by - ay));
  }
  context.fill();
  context.stroke();
}

// --- the map view -----------------------------------------------------------------------------

class MapView {
  constructor(root, args) {
    this.args = args;
    this.hidden = new Set();
    this.parts = []; // the selection's shapes, in data coordinates
    this.hover = -1;
    this.frame = 0;
    this.root = mountPoint(root, "vae-canvas map");
    this.heading = element("div", "map-title", this.root);
    const bar = element("div", "map-bar", this.root);
    this.legend = element("div", "legend", bar);
    this.legend.setAttribute("role", "group");
    this.legend.setAttribute("aria-label", "Classes shown on the map");
    this.modes = element("div", "modes", bar);
    this.modes.setAttribute("role", "group");
    this.modes.setAttribute("aria-label", "What a drag selects with");
    this.buildModes(this.modes);
    this.box = element("div", "map-box", this.root);
    this.canvas = element("canvas", "map", this.box);
    this.canvas.setAttribute("role", "img");
    this.thumb = element("div", "thumb", this.box);
    this.thumb.hidden = true;
    this.thumb.setAttribute("aria-hidden", "true"); // follows the pointer: the canvas' label says what the map shows
    this.thumbCanvas = element("canvas", "", this.thumb);
    this.thumbCanvas.width = this.thumbCanvas.height = SIDE;
    this.thumbText = element("div", "thumb-text", this.thumb);
    this.note = element("div", "note", this.root);
    this.canvas.addEventListener("pointermove", (event) => this.onMove(event));
    this.canvas.addEventListener("pointerleave", () => this.onLeave());
    this.canvas.addEventListener("pointerdown", (event) => this.onDown(event));
    this.canvas.addEventListener("pointerup", (event) => this.onUp(event));
    this.listener = () => { this.showThumb(); requestDraw(this); };
    registry.listeners.add(this.listener);
    registry.maps.add(this);
    this.resize = new ResizeObserver(() => { this.background = null; requestDraw(this); });
    this.resize.observe(this.box);
  }

  update(data) {
    // The points' fingerprint, not the view's key: a new model or projection under the same key replaces them.
    const pointsKey = [data.points.id, data.points.x.length].join();
    if (pointsKey !== this.pointsKey) {
      this.pointsKey = pointsKey;
      this.x = Float64Array.from(data.points.x);
      this.y = Float64Array.from(data.points.y);
      this.labels = Int8Array.from(data.points.labels);
      this.rows = Int32Array.from(data.points.rows);
      this.rowIndex = new Map(Array.from(this.rows, (row, i) => [row, i]));
    }
    // The plot covers the points and the marker: a digit far from every test digit still shows.
    const boundsKey = [pointsKey, data.marker ? [data.marker.x, data.marker.y] : ""].join();
    if (boundsKey !== this.boundsKey) {
      this.boundsKey = boundsKey;
      this.bounds = bounds(this.x, this.y, data.marker);
      const [x0, x1, y0, y1] = this.bounds;
      this.decimals = Math.max(0, Math.min(6, DIGITS - Math.floor(Math.log10(Math.max(x1 - x0, y1 - y0)))));
      this.background = null;
    }
    // The legend and the selection Python sends win when they differ from what it sent before (a link, a reset);
    // otherwise the page keeps its own, which Python hears on the next report.
    const given = JSON.stringify([data.hidden || [], data.selection || []]);
    if (given !== this.given) {
      this.given = given;
      this.hidden = new Set(data.hidden || []);
      this.parts = data.selection || [];
      this.background = null;
    }
    if (this.data && (this.data.compact !== data.compact || this.data.width !== data.width)) this.background = null;
    this.data = data;
    this.select();
    this.heading.textContent = data.title;
    this.root.classList.toggle("compact", Boolean(data.compact));
    this.root.style.width = data.width ? `${data.width}px` : "";
    this.box.style.height = `${data.height}px`;
    this.modes.hidden = !data.selectable;
    this.legend.hidden = data.legend === false;
    this.canvas.classList.toggle("static", !data.selectable); // no crosshair where a press selects nothing
    this.canvas.setAttribute("aria-label", data.alt || data.title);
    this.buildLegend();
    this.note.textContent = data.note || "";
    describe(this.root, { view: "map", model: data.model || null, method: data.method || null,
      points: this.x.length, fingerprint: data.points.id ?? null, sprite: data.sprite || null });
    requestDraw(this);
  }

  /** "full" or "compact": which margins, fonts and thumbnail size the map uses. */
  get size() {
    return this.data.compact ? "compact" : "full";
  }

  /** Box or lasso: what a drag selects with. */
  buildModes(parent) {
    this.mode = "box";
    this.modeButtons = SELECT_MODES.map(([mode, text, title]) => {
      const button = element("button", "mode", parent);
      button.type = "button";
      button.textContent = text;
      button.title = title;
      button.dataset.mode = mode;
      button.addEventListener("click", () => {
        this.mode = mode;
        this.modeButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.mode === mode)));
      });
      button.setAttribute("aria-pressed", String(mode === this.mode));
      return button;
    });
  }

  buildLegend() {
    const layout = JSON.stringify([this.data.names, this.data.colors]);
    if (layout !== this.legendLayout) {
      this.legendLayout = layout;
      this.legend.replaceChildren();
      this.chips = this.data.names.map((name, k) => {
        const chip = element("button", "chip", this.legend);
        chip.type = "button";
        chip.title = "Click to hide or show; double-click to show only this one";
        element("span", "dot", chip).style.background = this.data.colors[k];
        element("span", "name", chip).textContent = name;
        chip.addEventListener("click", () => this.toggle(k));
        chip.addEventListener("dblclick", () => this.isolate(k));
        return chip;
      });
    }
    this.showChips();
  }

  /** A hidden class's chip is struck through (its text keeps full contrast) and not pressed. */
  showChips() {
    this.chips.forEach((chip, k) => {
      chip.classList.toggle("off", this.hidden.has(k));
      chip.setAttribute("aria-pressed", String(!this.hidden.has(k)));
    });
  }

  toggle(k) {
    if (this.hidden.has(k)) this.hidden.delete(k);
    else this.hidden.add(k);
    this.changedVisibility();
  }

  /** Show only class ``k``; when it is shown alone already, show every class again (as plotly's legend does). */
  isolate(k) {
    const alone = this.hidden.size === this.data.names.length - 1 && !this.hidden.has(k);
    this.hidden = new Set(alone ? [] : this.data.names.map((_, j) => j).filter((j) => j !== k));
    this.changedVisibility();
  }

  changedVisibility() {
    this.showChips();
    this.background = null;
    this.select();
    if (this.data.selectable) this.args.setStateValue("hidden", [...this.hidden].sort((a, b) => a - b));
    requestDraw(this);
  }

  /** The plot's frame: margins that fit the y tick labels, then ``scaled`` to them. */
  layout() {
    const margin = { ...MARGIN[this.size] };
    let view = this.scaled(margin);
    const context = this.canvas.getContext("2d");
    context.font = FONT[this.size].tick;
    const widest = Math.max(0, ...view.yTicks(context).map((t) => context.measureText(tickLabel(t)).width));
    margin.left = Math.max(margin.left, Math.ceil(widest) + 6 + TITLE_BAND);
    view = this.scaled(margin);
    return view;
  }

  /** The plot's scale within ``margin``: equal units across and up, the points' box centred in the plot area. */
  scaled(margin) {
    const width = this.box.clientWidth || this.data.width || 600;
    const height = this.data.height;
    const [x0, x1, y0, y1] = this.bounds;
    const innerW = Math.max(20, width - margin.left - margin.right);
    const innerH = Math.max(20, height - margin.top - margin.bottom);
    const scale = Math.min(innerW / (x1 - x0), innerH / (y1 - y0));
    const left = margin.left + (innerW - scale * (x1 - x0)) / 2;
    const top = margin.top + (innerH - scale * (y1 - y0)) / 2;
    const view = { width, height, margin, innerW, innerH, scale, toX: (x) => left + (x - x0) * scale,
      toY: (y) => top + (y1 - y) * scale, fromX: (px) => x0 + (px - left) / scale, fromY: (py) => y1 - (py - top) / scale };
    // Ticks cover the whole plot area, which is wider or taller than the points' box (equal units).
    view.xTicks = (c) => fittedTicks(c, view.fromX(margin.left), view.fromX(width - margin.right), innerW, true);
    view.yTicks = (c) => fittedTicks(c, view.fromY(height - margin.bottom), view.fromY(margin.top), innerH, false);
    return view;
  }

  screenPoint(row) {
    const i = this.rowIndex?.get(row);
    if (i === undefined || !this.view) return null;
    const box = this.canvas.getBoundingClientRect();
    return [box.left + this.view.toX(this.x[i]), box.top + this.view.toY(this.y[i])];
  }

  /** The visible point nearest (x, y) in CSS pixels of the canvas, within HIT_RADIUS; -1 when none. */
  nearest(x, y) {
    let best = -1;
    let bestDistance = HIT_RADIUS * HIT_RADIUS;
    const { px, py } = this;
    for (let i = 0; i < px.length; i++) {
      if (this.hidden.has(this.labels[i])) continue;
      const dx = px[i] - x;
      const dy = py[i] - y;
      const distance = dx * dx + dy * dy;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = i;
      }
    }
    return best;
  }

  local(event) {
    const box = this.canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  }

  onMove(event) {
    if (!this.px) return;
    const [x, y] = this.local(event);
    if (this.press) {
      const { path } = this.press;
      const [lx, ly] = path[path.length - 1];
      if (this.press.mode === "lasso" && Math.hypot(x - lx, y - ly) >= LASSO_STEP) path.push([x, y]);
      this.press.to = [x, y];
      requestDraw(this);
      return;
    }
    const hover = this.nearest(x, y);
    this.cursor = [x, y];
    if (hover !== this.hover) {
      this.hover = hover;
      requestDraw(this);
    }
    this.showThumb(); // at once, not at the next frame: the thumbnail follows the cursor
  }

  onLeave() {
    this.hover = -1;
    this.showThumb();
    requestDraw(this);
  }

  onDown(event) {
    if (event.button !== 0 || !this.data.selectable || !this.view) return;
    this.canvas.setPointerCapture(event.pointerId);
    const at = this.local(event);
    this.press = { from: at, to: at, path: [at], mode: this.mode, add: event.shiftKey || event.ctrlKey || event.metaKey };
  }

  onUp(event) {
    const press = this.press;
    this.press = null;
    if (!press) return;
    const [x, y] = this.local(event);
    press.path.push([x, y]);
    const moved = press.path.some(([px, py]) => Math.hypot(px - press.from[0], py - press.from[1]) >= DRAG_MIN);
    let part = null;
    if (moved) {
      part = press.mode === "lasso" ? this.lassoPart(press.path) : this.boxPart(press.from, [x, y]);
    } else {
      const hit = this.nearest(x, y);
      if (hit >= 0) part = { row: this.rows[hit] };
    }
    if (press.add) this.parts = part ? [...this.parts, part].slice(-MAX_PARTS) : this.parts;
    else this.parts = part ? [part] : [];
    this.select();
    this.args.setStateValue("selection", this.parts);
    requestDraw(this);
  }

  /** A pixel of the canvas -> [x, y] in data coordinates, rounded to the plot's resolution (short in a URL). */
  toData([px, py]) {
    const round = (v) => Number(v.toFixed(this.decimals)) || 0; // no "-0"
    return [round(this.view.fromX(px)), round(this.view.fromY(py))];
  }

  boxPart([ax, ay], [bx, by]) {
    const [x0, y1] = this.toData([Math.min(ax, bx), Math.min(ay, by)]);
    const [x1, y0] = this.toData([Math.max(ax, bx), Math.max(ay, by)]);
    return { box: [x0, y0, x1, y1] };
  }

  /** The drawn path with at most MAX_CORNERS corners, in data coordinates; null when less than a triangle. */
  lassoPart(path) {
    let corners = simplify(path, 0.5);
    for (let tolerance = 1; corners.length > MAX_CORNERS; tolerance *= 2) corners = simplify(path, tolerance);
    const lasso = corners.map((corner) => this.toData(corner))
      .filter(([x, y], k, all) => k === 0 || x !== all[k - 1][0] || y !== all[k - 1][1]);
    return lasso.length >= 3 ? { lasso } : null;
  }

  /** Whether the point ``i`` lies inside ``part``, in data coordinates (canvas.py's selected_rows does the same). */
  inPart(part, i) {
    const [x, y] = [this.x[i], this.y[i]];
    if (part.box) return x >= part.box[0] && x <= part.box[2] && y >= part.box[1] && y <= part.box[3];
    if (part.lasso) return insidePolygon(part.lasso, x, y);
    return this.rows[i] === part.row;
  }

  /** The selection: rows of the visible points inside any part; the faded layer is redrawn when it changes. */
  select() {
    const rows = [];
    if (this.parts.length) {
      for (let i = 0; i < this.x.length; i++) {
        if (!this.hidden.has(this.labels[i]) && this.parts.some((part) => this.inPart(part, i))) rows.push(this.rows[i]);
      }
    }
    const key = rows.join();
    if (key === this.selectedKey) return;
    this.selectedKey = key;
    this.selected = new Set(rows);
    this.root.dataset.selected = String(rows.length);
    this.background = null;
  }

  /** Place the thumbnail of the hovered digit beside the cursor (or hide it). */
  showThumb() {
    if (this.hover < 0 || !this.cursor) {
      this.thumb.hidden = true;
      delete this.thumb.dataset.row;
      return;
    }
    const row = this.rows[this.hover];
    const name = this.data.names[this.labels[this.hover]];
    const sprite = this.data.sprite && registry.sprites.get(this.data.sprite);
    this.thumbCanvas.hidden = !sprite;
    if (sprite && row < sprite.count) {
      const context = this.thumbCanvas.getContext("2d");
      const sx = (row % sprite.columns) * SIDE;
      const sy = Math.floor(row / sprite.columns) * SIDE;
      context.drawImage(sprite.image, sx, sy, SIDE, SIDE, 0, 0, SIDE, SIDE);
    }
    this.thumbText.textContent = `#${row} · ${name}`;
    // Beside the cursor, on the side with room, and inside the map even where it is small.
    const [width, height, side] = [this.box.clientWidth, this.data.height, THUMB[this.size] + 8];
    const [x, y] = this.cursor;
    const left = x + 14 + side > width ? x - 14 - side : x + 14;
    const top = y + 14 + side + 20 > height ? y - 14 - side - 20 : y + 14;
    this.thumb.style.left = `${Math.max(0, Math.min(left, width - side))}px`;
    this.thumb.style.top = `${Math.max(0, Math.min(top, height - side - 20))}px`;
    this.thumb.hidden = false;
    this.thumb.dataset.row = String(row);
  }

  draw() {
    const view = this.background ? this.view : this.layout(); // a resize, or any change of the layer, lays out again
    const ratio = devicePixelRatio;
    if (this.canvas.width !== Math.round(view.width * ratio) || this.canvas.height !== Math.round(view.height * ratio)) {
      this.canvas.width = Math.round(view.width * ratio);
      this.canvas.height = Math.round(view.height * ratio);
      this.background = null;
    }
    if (!this.background) {
      this.view = view;
      this.px = Float32Array.from(this.x, view.toX);
      this.py = Float32Array.from(this.y, view.toY);
      this.background = this.drawBackground(view, ratio);
      this.root.dataset.drawn = this.pointsKey;
    }
    const context = this.canvas.getContext("2d");
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.drawImage(this.background, 0, 0);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.lineWidth = 1.5;
    context.strokeStyle = "#111";
    for (const row of this.selected.size <= RING_MAX ? this.selected : []) {
      const i = this.rowIndex.get(row);
      if (i === undefined || this.hidden.has(this.labels[i])) continue;
      context.beginPath();
      context.arc(this.px[i], this.py[i], 4, 0, 2 * Math.PI);
      context.stroke();
    }
    if (this.hover >= 0) {
      context.lineWidth = 2;
      context.fillStyle = this.data.colors[this.labels[this.hover]];
      context.beginPath();
      context.arc(this.px[this.hover], this.py[this.hover], 5.5, 0, 2 * Math.PI);
      context.fill();
      context.stroke();
    }
    this.drawParts(context, view);
    if (this.data.marker) drawMarker(context, view.toX(this.data.marker.x), view.toY(this.data.marker.y), this.data.marker.label);
    if (this.press) drawSelection(context, this.press);
  }

  /** The selection's boxes and lassos as thin dashed outlines: a restored selection shows its shapes. */
  drawParts(context, view) {
    context.save();
    context.setLineDash([4, 3]);
    context.lineWidth = 1;
    context.strokeStyle = "rgba(59, 91, 219, 0.7)";
    for (const part of this.parts) {
      const corners = part.box ? [[part.box[0], part.box[1]], [part.box[2], part.box[1]], [part.box[2], part.box[3]],
        [part.box[0], part.box[3]]] : part.lasso || [];
      if (!corners.length) continue;
      context.beginPath();
      for (const [x, y] of corners) context.lineTo(view.toX(x), view.toY(y)); // the first lineTo starts the path
      context.closePath();
      context.stroke();
    }
    context.restore();
  }

  /** The static layer: axes with round ticks, axis titles and every visible point. */
  drawBackground(view, ratio) {
    const canvas = document.createElement("canvas");
    canvas.width = this.canvas.width;
    canvas.height = this.canvas.height;
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.fillStyle = "#fff";
    context.fillRect(0, 0, view.width, view.height);
    this.drawAxes(context, view);
    // With a selection, the other points fade and the selected ones are drawn on top of them.
    const selecting = this.selected.size > 0;
    const isSelected = (i) => this.selected.has(this.rows[i]);
    this.drawPoints(context, selecting ? 0.12 : 0.65, selecting ? (i) => !isSelected(i) : () => true);
    if (selecting) this.drawPoints(context, 0.9, isSelected);
    context.globalAlpha = 1;
    return canvas;
  }

  /** Grid lines, round ticks whose labels do not overlap, and the axis titles (cut to the plot's width). */
  drawAxes(context, view) {
    const { margin } = view;
    this.tickBoxes = { x: [], y: [] }; // [from, to] of each tick label along its axis, in CSS pixels (for tests)
    context.strokeStyle = "#ececec";
    context.fillStyle = "#595959"; // 7:1 on white
    context.font = FONT[this.size].tick;
    context.lineWidth = 1;
    context.textAlign = "center";
    for (const t of view.xTicks(context)) {
      const x = Math.round(view.toX(t)) + 0.5;
      context.beginPath();
      context.moveTo(x, margin.top);
      context.lineTo(x, view.height - margin.bottom);
      context.stroke();
      context.fillText(tickLabel(t), x, view.height - margin.bottom + 13);
      const half = context.measureText(tickLabel(t)).width / 2;
      this.tickBoxes.x.push([x - half, x + half]);
    }
    context.textAlign = "right";
    for (const t of view.yTicks(context)) {
      const y = Math.round(view.toY(t)) + 0.5;
      context.beginPath();
      context.moveTo(margin.left, y);
      context.lineTo(view.width - margin.right, y);
      context.stroke();
      context.fillText(tickLabel(t), margin.left - 6, y + 4);
      this.tickBoxes.y.push([y - 6, y + 6]);
    }
    context.fillStyle = "#333";
    context.font = FONT[this.size].title;
    context.textAlign = "center";
    context.fillText(this.data.axes[0], margin.left + view.innerW / 2, view.height - 6, view.innerW);
    context.save();
    context.translate(12, margin.top + view.innerH / 2);
    context.rotate(-Math.PI / 2);
    context.fillText(this.data.axes[1], 0, 0, view.innerH);
    context.restore();
  }

  /** The visible points for which ``keep(i)`` holds, as small squares of their class colour. */
  drawPoints(context, alpha, keep) {
    const radius = this.data.radius;
    context.globalAlpha = alpha;
    for (let i = 0; i < this.px.length; i++) {
      const k = this.labels[i];
      if (this.hidden.has(k) || !keep(i)) continue;
      context.fillStyle = this.data.colors[k];
      context.fillRect(this.px[i] - radius, this.py[i] - radius, 2 * radius, 2 * radius);
    }
  }

  destroy() {
    registry.listeners.delete(this.listener);
    registry.maps.delete(this);
    this.resize.disconnect();
    cancelAnimationFrame(this.frame);
  }
}

/** [x0, x1, y0, y1]: the points' box (and the marker's), padded by 4% on each side. */
function bounds(x, y, marker) {
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < x.length; i++) {
    x0 = Math.min(x0, x[i]); x1 = Math.max(x1, x[i]);
    y0 = Math.min(y0, y[i]); y1 = Math.max(y1, y[i]);
  }
  if (marker) {
    x0 = Math.min(x0, marker.x); x1 = Math.max(x1, marker.x);
    y0 = Math.min(y0, marker.y); y1 = Math.max(y1, marker.y);
  }
  if (!Number.isFinite(x0)) [x0, x1, y0, y1] = [-1, 1, -1, 1];
  const padX = Math.max((x1 - x0) * 0.04, 1e-3);
  const padY = Math.max((y1 - y0) * 0.04, 1e-3);
  return [x0 - padX, x1 + padX, y0 - padY, y1 + padY];
}

/** A five-pointed star with a dark outline and its label: the reader's own digit on the map. */
function drawMarker(context, x, y, text) {
  context.beginPath();
  for (let k = 0; k < 10; k++) {
    const radius = k % 2 ? 5 : 12;
    const angle = -Math.PI / 2 + (k * Math.PI) / 5;
    context.lineTo(x + radius * Math.cos(angle), y + radius * Math.sin(angle));
  }
  context.closePath();
  context.fillStyle = "#ffd43b";
  context.strokeStyle = "#111";
  context.lineWidth = 2;
  context.fill();
  context.stroke();
  if (text) {
    context.font = "bold 13px sans-serif";
    context.textAlign = "left";
    context.lineWidth = 4;
    context.strokeStyle = "rgba(255, 255, 255, 0.9)";
    context.strokeText(text, x + 15, y + 5);
    context.fillStyle = "#111";
    context.fillText(text, x + 15, y + 5);
  }
}

// --- the drawing pad ------------------------------------------------------------------------------

class DrawView {
  constructor(root, args) {
    this.args = args;
    this.root = mountPoint(root, "vae-canvas draw");
    this.pad = element("canvas", "pad", this.root);
    this.pad.width = this.pad.height = SIDE * PAD_SCALE;
    this.pad.setAttribute("role", "img");
    this.pad.setAttribute("aria-label", "Drawing pad: draw a digit with the mouse or a finger");
    this.context = this.pad.getContext("2d", { willReadFrequently: true });
    this.clear();
    const controls = element("div", "pad-controls", this.root);
    this.clearButton = element("button", "clear", controls);
    this.clearButton.type = "button";
    this.clearButton.textContent = "Clear";
    this.note = element("span", "note", controls);
    this.clearButton.addEventListener("click", () => { this.clear(); this.report(); });
    this.pad.addEventListener("pointerdown", (event) => this.onDown(event));
    this.pad.addEventListener("pointermove", (event) => this.onMove(event));
    this.pad.addEventListener("pointerup", () => this.onUp());
    this.pad.addEventListener("pointercancel", () => this.onUp());
  }

  update(data) {
    if (this.data === undefined && Array.isArray(data.pixels) && data.pixels.length === PIXELS) this.paint(data.pixels);
    this.data = data;
    this.note.textContent = data.note || "";
  }

  clear() {
    this.context.fillStyle = "#000";
    this.context.fillRect(0, 0, this.pad.width, this.pad.height);
    this.pad.dataset.strokes = "0";
  }

  /** Grey levels [784] (a drawing kept by Python across page visits) back onto the pad, smoothly enlarged. */
  paint(grey) {
    const small = document.createElement("canvas");
    small.width = small.height = SIDE;
    drawGrey(small, grey);
    this.context.imageSmoothingEnabled = true;
    this.context.drawImage(small, 0, 0, this.pad.width, this.pad.height);
  }

  position(event) {
    const box = this.pad.getBoundingClientRect();
    return [(event.clientX - box.left) * (this.pad.width / box.width),
      (event.clientY - box.top) * (this.pad.height / box.height)];
  }

  onDown(event) {
    if (event.button !== 0) return;
    this.pad.setPointerCapture(event.pointerId);
    this.last = this.position(event);
    this.stroke([this.last, this.last]);
  }

  onMove(event) {
    if (!this.last) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    const path = [this.last, ...(events.length ? events : [event]).map((e) => this.position(e))];
    this.last = path[path.length - 1];
    this.stroke(path);
  }

  onUp() {
    if (!this.last) return;
    this.last = null;
    this.pad.dataset.strokes = String(Number(this.pad.dataset.strokes) + 1);
    this.report();
  }

  /** A white line with round ends whose edge falls off like a Gaussian (the canvas shadow is a Gaussian blur). */
  stroke(path) {
    const context = this.context;
    context.save();
    context.strokeStyle = "#fff";
    context.lineWidth = PEN_WIDTH;
    context.lineCap = context.lineJoin = "round";
    context.shadowColor = "#fff";
    context.shadowBlur = PEN_BLUR;
    context.beginPath();
    context.moveTo(path[0][0], path[0][1]);
    for (const [x, y] of path.slice(1)) context.lineTo(x, y);
    if (path.length === 2 && path[0][0] === path[1][0] && path[0][1] === path[1][1]) context.lineTo(path[0][0] + 0.01, path[0][1]);
    context.stroke();
    context.restore();
  }

  /** The pad averaged over 4 x 4 blocks: grey levels [784] in 0..255, row-major. */
  pixels() {
    const data = this.context.getImageData(0, 0, this.pad.width, this.pad.height).data;
    const out = new Array(PIXELS).fill(0);
    const width = this.pad.width;
    for (let y = 0; y < width; y++) {
      for (let x = 0; x < width; x++) {
        out[Math.floor(y / PAD_SCALE) * SIDE + Math.floor(x / PAD_SCALE)] += data[4 * (y * width + x)];
      }
    }
    return out.map((sum) => Math.round(sum / (PAD_SCALE * PAD_SCALE)));
  }

  report() {
    this.args.setStateValue("pixels", this.pixels());
  }

  destroy() {}
}

// --- the component's entry point ------------------------------------------------------------

const VIEWS = { map: MapView, draw: DrawView };

export default function vaeCanvas({ data, parentElement, setStateValue }) {
  if (data instanceof Uint8Array || data instanceof ArrayBuffer) {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    // Tell Python once the sheet is held, so later runs mount nothing; an empty mount reports nothing.
    if (bytes.byteLength) registerSprite(bytes).then(() => setStateValue("held", [...registry.sprites.keys()].sort()));
    return undefined;
  }
  if (!data || !VIEWS[data.view]) return undefined;
  return mountView(views, VIEWS[data.view], parentElement, { setStateValue }, data);
}
