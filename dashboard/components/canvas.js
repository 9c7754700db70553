// Our canvases (see canvas.py): the latent map, with each test digit's thumbnail under the cursor, and a pad to
// draw a digit on.
//
// One module serves three kinds of mount:
//   - data is bytes: a sprite sheet of test digits (a PNG with a small header), kept in a registry shared by
//     every mount of this page, so the thumbnails travel once per browser session;
//   - data is an object with view "map": a scatter of 2-D points coloured by class, with a legend that hides
//     classes, hover thumbnails drawn from the sprite, a click, a dragged box or a lasso to select. A selectable
//     map reports its hidden classes and its selection as shapes in data coordinates ({box: [x0, y0, x1, y1]},
//     {lasso: [[x, y], ...]}, {row: r}; shift adds a shape), and takes both back from its data (a shared link).
//     A zoomable map zooms and pans (map_zoom.js: the gestures, the camera a selectable map reports as
//     "viewport", the overview); shapes stay in data coordinates, so they hold at any zoom. The page may ring a
//     clicked point's nearest neighbours (data.neighbours), ask the map to find a row (data.find: select it,
//     centre on it, report "found"), and the PNG button saves the map as drawn (map_export.js). The points may be
//     coloured by a value instead of their class (data.colouring, with a colour bar) and density lines drawn under
//     them (data.contours): map_colour.js;
//   - data is an object with view "draw": a 28 x 28 digit drawn with a soft pen, reported on each stroke's end.
// Hovering never talks to the server. Nothing here evaluates strings or fetches anything; text is set with
// textContent only. The root of each view carries data attributes that say what it draws (data-model,
// data-method, data-points, data-fingerprint; data-drawn once drawn; a map's data-zoom and data-center once
// drawn; data-neighbours: the rows ringed as neighbours; data-colour: "class" or what colours the points;
// data-contours: how many density lines lie under them), for tests and benchmarks.

import {
  PIXELS, SIDE, describe, drawGrey, drawPicture, element, fittedTicks, mountPoint, mountView, readMessage, requestDraw,
  tickLabel,
} from "./base.js";
import { BAR_BAND, ColourBar, drawColourBar, drawContours, shadeTable, shades, valueText } from "./map_colour.js";
import { exportButton } from "./map_export.js";
import { Navigator, clampCamera, home, project } from "./map_zoom.js";

const SPRITE_MAGIC = "VAES";
const TRAIN_FADE = 0.35; // training digits' opacity, relative to the test digits'

/** A map row as a reader names it: "#17" for a test digit, "train #17" for a training one. */
function digitName(row, trainFrom) {
  return trainFrom !== null && row >= trainFrom ? `train #${row - trainFrom}` : `#${row}`;
}
const HIT_RADIUS = 10; // CSS pixels: how near the cursor a point must be to show its thumbnail
const DRAG_MIN = 4; // CSS pixels a press must move to be a box or lasso selection rather than a click
const LASSO_STEP = 3; // CSS pixels between the lasso's recorded corners
const MAX_PARTS = 8; // shapes in one selection: shift adds one, the oldest goes (canvas.py's MAX_PARTS)
const MAX_CORNERS = 48; // a lasso's path is simplified to at most this many corners (canvas.py's MAX_CORNERS)
const DIGITS = 4; // a shape's coordinates keep about this many significant digits of the plot's span
const RING_MAX = 100; // a selection of at most this many points is also ringed; a larger one shows by the fading
const NEIGHBOUR_RING = { radius: 6.5, dash: [3, 2], color: "#111", halo: "rgba(255, 255, 255, 0.9)" }; // dashed
const FIND_ZOOM = 8; // a searched point is shown at least this close (canvas.py's FIND_ZOOM)
// What a drag does (map_zoom.js says why Pan comes first); a click selects a point in every mode.
const MODES = [["pan", "Pan", "Drag to move the map; the wheel zooms, double-click shows all"],
  ["box", "Box", "Drag a rectangle to select"], ["lasso", "Lasso", "Draw around points to select"]];
const DOUBLE_CLICK_MS = 400; // a click on no point clears the selection after this, unless it was a double-click
const SHARP_MS = 8; // dots that took longer to draw are moved as a picture during a gesture, drawn sharp after it
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

/**
 * "VAES" | u32 header length (little-endian) | JSON header {id, count, columns, channels, side} | PNG of count
 * images (grey, or RGB for 3 channels), side x side each; or, with format "grey-gzip" or "rgb-gzip" in the header,
 * gzip of count x channels x side x side levels, channels first (the training set's 60,000: as a bitmap they would
 * take four times the memory), inflated by the browser's DecompressionStream. A header without channels and side
 * is MNIST's 1 x 28 x 28.
 */
async function registerSprite(bytes) {
  const { header, start } = readMessage(bytes, SPRITE_MAGIC);
  const gzipped = header.format === "grey-gzip" || header.format === "rgb-gzip";
  const body = new Blob([bytes.slice(start)], { type: gzipped ? "" : "image/png" });
  const shape = { count: header.count, channels: header.channels ?? 1, side: header.side ?? SIDE };
  if (gzipped) {
    const levels = new Uint8Array(await new Response(body.stream().pipeThrough(new DecompressionStream("gzip")))
      .arrayBuffer());
    registry.sprites.set(header.id, { levels, ...shape });
  } else {
    registry.sprites.set(header.id, { image: await createImageBitmap(body), columns: header.columns, ...shape });
  }
  for (const listener of [...registry.listeners]) listener();
}

/** The sheet holding ``row`` of the map's sheets (one id, or the test set's then the training set's) and its place
 * there: [sheet, index], or null while a sheet it needs has not arrived. */
function spriteOf(ids, row) {
  let index = row;
  for (const id of [ids].flat()) {
    const sheet = id && registry.sprites.get(id);
    if (!sheet) return null;
    if (index < sheet.count) return [sheet, index];
    index -= sheet.count;
  }
  return null;
}

/** Draw image ``index`` of ``sheet`` on ``canvas``, made side x side (its CSS size is the same whatever the side). */
function drawThumb(canvas, sheet, index) {
  const { channels, side } = sheet;
  if (sheet.levels) {
    const count = channels * side * side;
    drawPicture(canvas, sheet.levels.subarray(index * count, (index + 1) * count), channels, side);
    return;
  }
  if (canvas.width !== side || canvas.height !== side) canvas.width = canvas.height = side;
  const [sx, sy] = [(index % sheet.columns) * side, Math.floor(index / sheet.columns) * side];
  canvas.getContext("2d").drawImage(sheet.image, sx, sy, side, side, 0, 0, side, side);
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
    this.neighbours = new Set(); // rows ringed as the clicked point's neighbours
    this.hover = -1;
    this.frame = 0;
    this.root = mountPoint(root, "vae-canvas map");
    const head = element("div", "map-head", this.root); // the title, and the tools at its right end
    this.heading = element("div", "map-title", head);
    this.tools = element("div", "tools", head);
    exportButton(this, this.tools);
    const bar = element("div", "map-bar", this.root);
    this.legend = element("div", "legend", bar);
    this.legend.setAttribute("role", "group");
    this.legend.setAttribute("aria-label", "Classes shown on the map");
    this.modes = element("div", "modes", bar);
    this.modes.setAttribute("role", "group");
    this.modes.setAttribute("aria-label", "What a drag does");
    this.buildModes(this.modes);
    this.colourBar = new ColourBar(this.root);
    this.box = element("div", "map-box", this.root);
    this.canvas = element("canvas", "map", this.box);
    this.canvas.setAttribute("role", "img");
    this.thumb = element("div", "thumb", this.box);
    this.thumb.hidden = true;
    this.thumb.setAttribute("aria-hidden", "true"); // follows the pointer: the canvas' label says what the map shows
    this.thumbCanvas = element("canvas", "", this.thumb);
    this.thumbCanvas.width = this.thumbCanvas.height = SIDE; // until a sheet of another side draws on it
    this.thumbText = element("div", "thumb-text", this.thumb);
    this.note = element("div", "note", this.root);
    this.nav = new Navigator(this);
    this.canvas.addEventListener("pointermove", (event) => this.onMove(event));
    this.canvas.addEventListener("pointerleave", () => this.onLeave());
    this.canvas.addEventListener("pointerdown", (event) => this.onDown(event));
    this.canvas.addEventListener("pointerup", (event) => this.onUp(event));
    this.canvas.addEventListener("pointercancel", () => this.onCancel());
    this.canvas.addEventListener("dblclick", (event) => {
      clearTimeout(this.clearTimer); // a double-click keeps the selection its first click would have cleared
      if (this.nav.enabled) {
        event.preventDefault();
        this.nav.reset();
      }
    });
    this.listener = () => { this.showThumb(); requestDraw(this); };
    registry.listeners.add(this.listener);
    registry.maps.add(this);
    this.resize = new ResizeObserver(() => this.stale());
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
      this.trainFrom = data.points.trainFrom ?? null; // rows from here on are training digits, drawn faint
      this.rowIndex = new Map(Array.from(this.rows, (row, i) => [row, i]));
      this.nav.forget(); // other points: the whole map
    }
    // The plot covers the points and the marker: a digit far from every test digit still shows.
    const boundsKey = [pointsKey, data.marker ? [data.marker.x, data.marker.y] : ""].join();
    if (boundsKey !== this.boundsKey) {
      this.boundsKey = boundsKey;
      this.bounds = bounds(this.x, this.y, data.marker);
      const [x0, x1, y0, y1] = this.bounds;
      this.decimals = Math.max(0, Math.min(6, DIGITS - Math.floor(Math.log10(Math.max(x1 - x0, y1 - y0)))));
      this.stale();
    }
    // The legend and the selection Python sends win when they differ from what it sent before (a link, a reset);
    // otherwise the page keeps its own, which Python hears on the next report.
    const given = JSON.stringify([data.hidden || [], data.selection || []]);
    if (given !== this.given) {
      this.given = given;
      this.hidden = new Set(data.hidden || []);
      this.parts = data.selection || [];
      this.stale();
    }
    if (this.data && (this.data.compact !== data.compact || this.data.width !== data.width)) this.stale();
    this.takeColours(data);
    this.data = data;
    this.nav.enable(Boolean(data.zoomable));
    this.nav.take(data.viewport); // a link's camera, unless it is one this page reported
    if (data.find && data.selectable && data.find.id !== this.foundId) {
      this.foundId = data.find.id; // once per search, found at the next frame (the camera needs the layout)
      this.pendingFind = data.find;
    }
    this.select();
    this.heading.textContent = data.title;
    this.root.classList.toggle("compact", Boolean(data.compact));
    this.root.style.width = data.width ? `${data.width}px` : "";
    this.box.style.height = `${data.height}px`;
    this.modes.hidden = !data.selectable;
    this.modeButtons[0].hidden = !data.zoomable;
    this.setMode(!data.selectable ? "pan" : !data.zoomable && this.mode === "pan" ? "box" : this.mode);
    this.legend.hidden = data.legend === false;
    this.tools.hidden = Boolean(data.compact);
    this.canvas.classList.toggle("static", !data.selectable && !data.zoomable); // a press does nothing there
    this.canvas.setAttribute("aria-label", data.alt || data.title);
    if (data.zoomable) this.canvas.setAttribute("aria-keyshortcuts", "+ - 0 ArrowLeft ArrowRight ArrowUp ArrowDown");
    else this.canvas.removeAttribute("aria-keyshortcuts");
    this.buildLegend();
    this.note.textContent = data.note || "";
    describe(this.root, { view: "map", model: data.model || null, method: data.method || null,
      points: this.x.length, fingerprint: data.points.id ?? null, sprite: data.sprite || null,
      colour: data.colouring?.by ?? "class", contours: (data.contours || []).length });
    requestDraw(this);
  }

  /** What colours the points (a value's shade, else the class) and the lines under them: redrawn when they change. */
  takeColours(data) {
    const colouring = data.colouring || null;
    const colourKey = colouring ? [this.pointsKey, colouring.by, colouring.range, colouring.values.length].join()
      : "";
    if (colourKey !== this.colourKey) {
      this.colourKey = colourKey;
      const fits = colouring && colouring.values.length === this.x.length;
      this.table = fits ? shadeTable(colouring.stops) : null;
      ({ shade: this.shade, order: this.order } = fits ? shades(colouring) : { shade: null, order: null });
      this.colourBar.show(fits ? colouring : null);
      this.legend.classList.toggle("valued", Boolean(fits));
      this.stale();
    }
    const lines = (data.contours || []).map((c) => [c.class, c.level, c.segments.length, c.segments[0]].join(":"));
    const linesKey = [this.pointsKey, ...lines].join();
    if (linesKey !== this.linesKey) {
      this.linesKey = linesKey;
      this.stale();
    }
  }

  /** Point ``i``'s colour: its value's shade, or its class's colour. */
  colour(i) {
    return this.table ? this.table[this.shade[i]] : this.data.colors[this.labels[i]];
  }

  /** "full" or "compact": which margins, fonts and thumbnail size the map uses. */
  get size() {
    return this.data.compact ? "compact" : "full";
  }

  /** Pan, box or lasso: what a drag does. */
  buildModes(parent) {
    this.modeButtons = MODES.map(([mode, text, title]) => {
      const button = element("button", "mode", parent);
      button.type = "button";
      button.textContent = text;
      button.title = title;
      button.dataset.mode = mode;
      button.addEventListener("click", () => this.setMode(mode));
      return button;
    });
    this.setMode("pan");
  }

  setMode(mode) {
    this.mode = mode;
    this.modeButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.mode === mode)));
    this.canvas?.classList.toggle("pan", mode === "pan"); // a hand where a drag pans
  }

  /** The points, their colours or the plot's size changed: every layer is drawn again. */
  stale() {
    this.background = this.dots = null;
    this.nav?.stale();
    requestDraw(this);
  }

  /** The camera moved: lay out and draw again (the dots sharp unless a gesture is in flight, see compose). */
  moved() {
    this.background = null;
    requestDraw(this);
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
    this.stale();
    this.select();
    if (this.data.selectable) this.args.setStateValue("hidden", [...this.hidden].sort((a, b) => a - b));
    requestDraw(this);
  }

  /**
   * The plot's layout for the camera: margins that fit its y tick labels. The camera is laid out on the whole map's
   * plot area (``wholeArea``, zoom 1's; the view's ``frame``), so tick labels that widen as the map zooms cover the
   * plot's edge rather than move the points under the cursor.
   */
  layout() {
    const key = [this.box.clientWidth, this.data.width, this.data.height, this.boundsKey, this.size].join();
    if (key !== this.wholeKey) {
      this.wholeKey = key;
      this.wholeArea = this.fitted(home(this.bounds), null).area;
    }
    return this.fitted(this.nav.current(this.wholeArea), this.wholeArea);
  }

  /** ``scaled`` with margins that fit the y tick labels of ``camera`` (``frame`` null: its own plot area). */
  fitted(camera, frame) {
    const margin = { ...MARGIN[this.size] };
    const view = this.scaled(margin, camera, frame);
    const context = this.canvas.getContext("2d");
    context.font = FONT[this.size].tick;
    const widest = Math.max(0, ...view.yTicks(context).map((t) => context.measureText(tickLabel(t)).width));
    margin.left = Math.max(margin.left, Math.ceil(widest) + 6 + TITLE_BAND);
    return this.scaled(margin, camera, frame);
  }

  /**
   * The plot within ``margin`` (its ``area``) seen through ``camera`` laid out on ``frame`` (map_zoom.js's
   * ``project``): equal units across and up; at zoom 1 the points' box centred in the plot area.
   */
  scaled(margin, camera, frame) {
    const width = this.box.clientWidth || this.data.width || 600;
    const height = this.data.height;
    const innerW = Math.max(20, width - margin.left - margin.right);
    const innerH = Math.max(20, height - margin.top - margin.bottom);
    const area = { left: margin.left, top: margin.top, width: innerW, height: innerH };
    frame ??= area;
    const view = { width, height, margin, innerW, innerH, area, frame, camera, ...project(camera, this.bounds, frame) };
    view.inside = (px, py) => px >= area.left && px <= area.left + innerW && py >= area.top && py <= area.top + innerH;
    // Ticks cover the whole plot area, which is wider or taller than the points' box (equal units).
    view.xTicks = (c) => fittedTicks(c, view.fromX(margin.left), view.fromX(width - margin.right), innerW, true);
    view.yTicks = (c) => fittedTicks(c, view.fromY(height - margin.bottom), view.fromY(margin.top), innerH, false);
    return view;
  }

  /** Where the row's point is drawn, in the page's CSS pixels; null when the map does not show it (zoomed away). */
  screenPoint(row) {
    const i = this.rowIndex?.get(row);
    if (i === undefined || !this.view) return null;
    const [x, y] = [this.view.toX(this.x[i]), this.view.toY(this.y[i])];
    if (!this.view.inside(x, y)) return null;
    const box = this.canvas.getBoundingClientRect();
    return [box.left + x, box.top + y];
  }

  /** The visible point nearest (x, y) in CSS pixels of the canvas, within HIT_RADIUS; -1 when none. */
  nearest(x, y) {
    let best = -1;
    let bestDistance = HIT_RADIUS * HIT_RADIUS;
    const { px, py } = this;
    if (this.nav.inOverview([x, y])) return -1; // the overview covers the points under it
    for (let i = 0; i < px.length; i++) {
      const dx = px[i] - x;
      const dy = py[i] - y;
      const distance = dx * dx + dy * dy;
      if (distance < bestDistance && !this.hidden.has(this.labels[i]) && this.view.inside(px[i], py[i])) {
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
    const press = this.press;
    if (press?.kind === "overview") {
      this.nav.centreOn([x, y]);
    } else if (press?.kind === "pan") {
      if (!press.panning && Math.hypot(x - press.from[0], y - press.from[1]) >= DRAG_MIN) {
        press.panning = true;
        this.nav.startDrag();
        this.canvas.classList.add("panning");
      }
      if (press.panning) {
        this.nav.drag([x - press.last[0], y - press.last[1]]); // from the press: the first pixels count too
        press.last = [x, y];
      }
    } else if (press) {
      const { path } = press;
      const [lx, ly] = path[path.length - 1];
      if (press.mode === "lasso" && Math.hypot(x - lx, y - ly) >= LASSO_STEP) path.push([x, y]);
      press.to = [x, y];
      requestDraw(this);
    } else {
      const hover = this.nearest(x, y);
      this.cursor = [x, y];
      if (hover !== this.hover) {
        this.hover = hover;
        requestDraw(this);
      }
      this.showThumb(); // at once, not at the next frame: the thumbnail follows the cursor
    }
  }

  onLeave() {
    this.hover = -1;
    this.cursor = null;
    this.showThumb();
    requestDraw(this);
  }

  /**
   * A press in the overview moves the view there; a drag pans in the Pan mode, with the middle button or with Space
   * held (on a zoomable map), and selects in the Box and Lasso modes (on a selectable one).
   */
  onDown(event) {
    if (!this.view) return;
    const at = this.local(event);
    const zoomable = this.nav.enabled;
    const add = event.shiftKey || event.ctrlKey || event.metaKey;
    let kind = null;
    if (zoomable && event.button === 0 && this.nav.inOverview(at)) kind = "overview";
    else if (zoomable && (event.button === 1 || (event.button === 0 && (this.mode === "pan" || this.nav.spaceHeld)))) {
      kind = "pan";
    } else if (event.button === 0 && this.data.selectable) kind = "select";
    if (!kind) return;
    if (event.button === 1) event.preventDefault(); // no autoscroll (a left press still focuses the map: its keys)
    this.canvas.setPointerCapture(event.pointerId);
    this.press = { kind, button: event.button, from: at, to: at, last: at, path: [at], mode: this.mode, add };
    if (kind === "overview") {
      this.nav.startDrag();
      this.nav.centreOn(at);
    }
    if (kind !== "select") {
      this.hover = -1;
      this.showThumb();
    }
  }

  onUp(event) {
    const press = this.press;
    this.press = null;
    if (!press) return;
    this.canvas.classList.remove("panning");
    const [x, y] = this.local(event);
    if (press.kind === "overview" || press.panning) {
      this.nav.endDrag();
      return;
    }
    press.path.push([x, y]);
    const moved = press.path.some(([px, py]) => Math.hypot(px - press.from[0], py - press.from[1]) >= DRAG_MIN);
    if (press.kind === "select" && moved) {
      this.choose(press.mode === "lasso" ? this.lassoPart(press.path) : this.boxPart(press.from, [x, y]), press.add);
    } else if (press.button === 0) {
      this.click([x, y], press.add);
    }
    requestDraw(this);
  }

  onCancel() {
    const press = this.press;
    this.press = null;
    this.canvas.classList.remove("panning");
    if (press?.kind === "overview" || press?.panning) this.nav.endDrag();
    requestDraw(this);
  }

  /** A click selects the point under it; on no point it clears the selection, unless a double-click follows. */
  click([x, y], add) {
    if (!this.data.selectable) return;
    const hit = this.nearest(x, y);
    clearTimeout(this.clearTimer);
    if (hit >= 0) this.choose({ row: this.rows[hit] }, add);
    else if (!add && this.parts.length) this.clearTimer = setTimeout(() => this.choose(null, false), DOUBLE_CLICK_MS);
  }

  /** ``part`` (null: none) becomes the selection, or is added to it; a changed selection is reported. */
  choose(part, add) {
    const parts = add ? (part ? [...this.parts, part].slice(-MAX_PARTS) : this.parts) : part ? [part] : [];
    if (JSON.stringify(parts) === JSON.stringify(this.parts)) return;
    this.parts = parts;
    this.select();
    this.args.setStateValue("selection", this.parts);
    requestDraw(this);
  }

  /**
   * A pixel of the canvas -> [x, y] in data coordinates, rounded to the view's resolution (short in a URL): the
   * whole plot's digits, and one more per tenfold zoom.
   */
  toData([px, py]) {
    const digits = Math.min(6, this.decimals + Math.max(0, Math.ceil(Math.log10(this.view.camera.zoom))));
    const round = (v) => Number(v.toFixed(digits)) || 0; // no "-0"
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
    this.markNeighbours();
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
    this.background = this.dots = null; // the faded and the selected dots
  }

  /**
   * The rows ringed as neighbours: the page's, while the row they belong to is the whole selection (a click), or
   * always when they belong to no row of the map (row null: the neighbours of Your digit's star).
   */
  markNeighbours() {
    const given = this.data?.neighbours;
    const clicked = this.parts.length === 1 ? this.parts[0].row : undefined;
    const rows = given && (given.row === null || (clicked !== undefined && given.row === clicked)) ? given.rows : [];
    const key = rows.join();
    if (key === this.neighboursKey) return;
    this.neighboursKey = key;
    this.neighbours = new Set(rows);
    describe(this.root, { neighbours: key || null });
    this.background = this.dots = null; // neighbours are drawn over the faded points
  }

  /** A search: select ``row`` and centre on it, at least FIND_ZOOM times closer; report that it was found. */
  find({ row, id }) {
    const i = this.rowIndex.get(row);
    if (i !== undefined) {
      this.choose({ row }, false);
      if (this.nav.enabled) {
        const { frame } = this.view;
        const zoom = Math.max(FIND_ZOOM, this.nav.current(frame).zoom);
        this.nav.move(clampCamera({ cx: this.x[i], cy: this.y[i], zoom }, this.bounds, frame), true);
      }
    }
    this.args.setStateValue("found", id);
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
    const found = this.data.sprite ? spriteOf(this.data.sprite, row) : null;
    this.thumbCanvas.hidden = !found;
    if (found) drawThumb(this.thumbCanvas, ...found);
    const value = this.table ? ` · ${valueText(this.data.colouring.values[this.hover], this.data.colouring)}` : "";
    this.thumbText.textContent = `${digitName(row, this.trainFrom)} · ${name}${value}`;
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
    const ratio = devicePixelRatio;
    if (!this.background) this.compose(ratio);
    if (this.pendingFind) {
      this.find(this.pendingFind);
      this.pendingFind = null;
      if (!this.background) this.compose(ratio);
    }
    const view = this.view;
    const context = this.canvas.getContext("2d");
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.drawImage(this.background, 0, 0);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.save();
    context.beginPath();
    context.rect(view.area.left, view.area.top, view.area.width, view.area.height);
    context.clip(); // zoomed, the points beyond the plot area stay out of the margins
    this.drawRings(context);
    if (this.hover >= 0) {
      context.lineWidth = 2;
      context.fillStyle = this.colour(this.hover);
      context.beginPath();
      context.arc(this.px[this.hover], this.py[this.hover], 5.5, 0, 2 * Math.PI);
      context.fill();
      context.stroke();
    }
    this.drawParts(context, view);
    if (this.data.marker) drawMarker(context, view.toX(this.data.marker.x), view.toY(this.data.marker.y), this.data.marker.label);
    if (this.press?.kind === "select") drawSelection(context, this.press);
    context.restore();
    this.nav.drawOverview(context, view, ratio, (small, whole) => this.drawPoints(small, 0.45, () => true, whole));
  }

  /** The visible selected points (a selection of at most RING_MAX) ringed solid, the neighbours dashed. */
  drawRings(context) {
    const ring = (rows, radius) => {
      for (const row of rows) {
        const i = this.rowIndex.get(row);
        if (i === undefined || this.hidden.has(this.labels[i])) continue;
        context.beginPath();
        context.arc(this.px[i], this.py[i], radius, 0, 2 * Math.PI);
        context.stroke();
      }
    };
    context.save();
    context.lineWidth = 3;
    context.strokeStyle = NEIGHBOUR_RING.halo; // a white halo under the dashes: they read on any colour
    ring(this.neighbours, NEIGHBOUR_RING.radius);
    context.setLineDash(NEIGHBOUR_RING.dash);
    context.lineWidth = 1.5;
    context.strokeStyle = NEIGHBOUR_RING.color;
    ring(this.neighbours, NEIGHBOUR_RING.radius);
    context.restore();
    context.lineWidth = 1.5;
    context.strokeStyle = "#111";
    ring(this.selected.size <= RING_MAX ? this.selected : [], 4);
  }

  /**
   * The map as drawn now, on a new canvas at ``ratio`` device pixels per CSS pixel: the axes, the density lines, the
   * points (their colours, faded around a selection, classes hidden), the rings, the shapes and the marker, and a
   * colouring's colour bar in a band below; no hover, no overview (map_export.js).
   */
  snapshot(ratio) {
    const view = this.view;
    const band = this.table ? BAR_BAND : 0;
    const out = document.createElement("canvas");
    [out.width, out.height] = [Math.round(view.width * ratio), Math.round((view.height + band) * ratio)];
    const context = out.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.fillStyle = "#fff";
    context.fillRect(0, 0, view.width, view.height + band);
    if (band) drawColourBar(context, this.data.colouring, view.margin.left, view.height);
    this.drawAxes(context, view);
    context.beginPath();
    context.rect(view.area.left, view.area.top, view.area.width, view.area.height);
    context.clip();
    this.paintDots(context, view);
    this.drawRings(context);
    this.drawParts(context, view);
    if (this.data.marker) drawMarker(context, view.toX(this.data.marker.x), view.toY(this.data.marker.y), this.data.marker.label);
    return out;
  }

  /**
   * Lay out the camera and draw the static layer: white, the axes, then the dots. During a gesture the margins
   * stay and dots slow to draw are the last ones moved and scaled as a picture; the gesture's end draws them sharp.
   */
  compose(ratio) {
    const whole = this.wholeArea;
    const view = this.nav.moving && this.view ? this.scaled(this.view.margin, this.nav.current(whole), whole)
      : this.layout();
    const [width, height] = [Math.round(view.width * ratio), Math.round(view.height * ratio)];
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
      this.dots = null;
    }
    this.view = view;
    this.placePoints(view);
    const frame = { scale: view.scale, x: view.toX(0), y: view.toY(0), width, height };
    const dots = this.dots;
    const same = dots && ["scale", "x", "y", "width", "height"].every((k) => dots.frame[k] === frame[k]);
    if (!same && !(dots && this.nav.moving && this.dotsMs > SHARP_MS)) this.dots = this.drawDots(view, ratio, frame);
    this.layer ??= document.createElement("canvas");
    const layer = this.layer;
    [layer.width, layer.height] = [width, height]; // also clears it
    const context = layer.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.fillStyle = "#fff";
    context.fillRect(0, 0, view.width, view.height);
    this.drawAxes(context, view);
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.beginPath();
    context.rect(view.area.left * ratio, view.area.top * ratio, view.area.width * ratio, view.area.height * ratio);
    context.clip();
    // Old dots onto the new frame: a point at old pixel p is now at k * p + (new origin - k * old origin).
    const old = this.dots.frame;
    const k = frame.scale / old.scale;
    context.drawImage(this.dots.canvas, (frame.x - k * old.x) * ratio, (frame.y - k * old.y) * ratio,
      old.width * k, old.height * k);
    this.background = layer;
    this.root.dataset.drawn = this.pointsKey;
    this.nav.place(view.area, view.width);
    if (!this.nav.moving) this.nav.describe(view.camera);
    if (this.cursor && !this.press) { // the points moved under a still cursor (a wheel, a key)
      this.hover = this.nearest(...this.cursor);
      this.showThumb();
    }
  }

  /**
   * Each point's pixel under ``view`` into ``px`` / ``py`` (reused arrays): every frame of a gesture does this, and a
   * plain loop over the affine map is some 20x faster at 70,000 points than ``Float32Array.from`` with a mapper.
   */
  placePoints(view) {
    const count = this.x.length;
    if (this.px?.length !== count) [this.px, this.py] = [new Float32Array(count), new Float32Array(count)];
    const [x0, y0] = [view.toX(0), view.toY(0)];
    const scale = view.toX(1) - x0; // toY runs the other way: y0 - scale * y
    const { x, y, px, py } = this;
    for (let i = 0; i < count; i++) {
      px[i] = x0 + scale * x[i];
      py[i] = y0 - scale * y[i];
    }
  }

  /** Every visible point of the plot area on a layer of its own, with a selection faded around; timed. */
  drawDots(view, ratio, frame) {
    const started = performance.now();
    const canvas = (this.dotsCanvas ??= document.createElement("canvas"));
    [canvas.width, canvas.height] = [frame.width, frame.height];
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.paintDots(context, view);
    this.dotsMs = performance.now() - started;
    return { canvas, frame };
  }

  /** The visible points on ``context`` (CSS pixels): with a selection the others fade, and the selected ones and the
   * neighbours are drawn on top of them. */
  paintDots(context, view) {
    const selecting = this.selected.size > 0;
    const onTop = (i) => this.selected.has(this.rows[i]) || this.neighbours.has(this.rows[i]);
    const shown = (i) => view.inside(this.px[i], this.py[i]);
    drawContours(context, view, this.data.contours, this.data.colors, this.hidden);
    const alpha = selecting ? 0.12 : 0.65;
    if (this.trainFrom !== null) { // training digits first and fainter: the test digits stay readable on top
      const train = (i) => this.rows[i] >= this.trainFrom;
      this.drawPoints(context, alpha * TRAIN_FADE, (i) => train(i) && !(selecting && onTop(i)) && shown(i));
      this.drawPoints(context, alpha, (i) => !train(i) && !(selecting && onTop(i)) && shown(i));
    } else {
      this.drawPoints(context, alpha, selecting ? (i) => !onTop(i) && shown(i) : shown);
    }
    if (selecting) this.drawPoints(context, 0.9, (i) => onTop(i) && shown(i));
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

  /**
   * The visible points for which ``keep(i)`` holds, as small squares of their colour (``colour``; by a value, the
   * highest drawn last): where the map draws them, or through ``at`` (the overview's projection, one-pixel squares).
   */
  drawPoints(context, alpha, keep, at) {
    const radius = at ? 0.5 : this.data.radius;
    const order = this.table ? this.order : null;
    context.globalAlpha = alpha;
    for (let n = 0; n < this.px.length; n++) {
      const i = order ? order[n] : n;
      if (this.hidden.has(this.labels[i]) || !keep(i)) continue;
      context.fillStyle = this.colour(i);
      const x = at ? at.toX(this.x[i]) : this.px[i];
      const y = at ? at.toY(this.y[i]) : this.py[i];
      context.fillRect(x - radius, y - radius, 2 * radius, 2 * radius);
    }
    context.globalAlpha = 1;
  }

  destroy() {
    registry.listeners.delete(this.listener);
    registry.maps.delete(this);
    this.resize.disconnect();
    this.nav.destroy();
    clearTimeout(this.clearTimer);
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
