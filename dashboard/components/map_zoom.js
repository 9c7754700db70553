// Zoom and pan for the latent map (canvas.js's MapView): the camera, its reported form, the gestures that move it,
// the zoom buttons and the overview in the plot's corner.
//
// How a map moves, after the embedding tools people know: TensorBoard's projector and Apple's Embedding Atlas
// both pan on a plain drag and zoom on the wheel about the cursor, and select only with a tool picked in their
// toolbar. So a map's drag pans unless its Box or Lasso mode is on (canvas.js's modes; Pan is the default), the
// middle button or Space + drag pans in any mode, and the wheel (a trackpad pinch arrives as a wheel with ctrlKey)
// zooms in every mode. A zoomable map takes the wheel from the page while the pointer is over it; a map that
// is not zoomable (the small tiles of a grid) listens to no wheel, so the page scrolls over it.
// Double-click, the 0 key or the "Reset view" button go back to the whole map; + and - zoom and the arrows pan
// while the map has the focus.
//
// The camera is {cx, cy, zoom}: the data point (cx, cy) sits at the plot area's centre, drawn zoom times larger
// than the whole map's fit. It is bounded (1 to MAX_ZOOM) and never shows more than zoom 1 shows, so the points
// cannot be panned away. A selectable map reports it as "viewport" ([cx, cy, zoom] with the digits the plot's
// resolution needs, or [] at zoom 1) once a gesture has ended and REPORT_MS have passed without another, so a
// gesture costs the page one rerun; and takes it back from its data (a shared link; null: the whole map).

import { element } from "./base.js";

export const MAX_ZOOM = 200; // canvas.py's MAX_ZOOM
const WHEEL_RATE = 0.0025; // the zoom doubles for every 400 pixels of wheel (d3-zoom reads a wheel the same way)
const PINCH_GAIN = 10; // a pinch's wheel events carry small deltas
const KEY_FACTOR = 1.5; // one press of +, - or a zoom button
const PAN_STEP = 0.15; // an arrow key moves the view by this share of the plot area
const SETTLE_MS = 150; // a wheel gesture has ended when no wheel event came for this long
const REPORT_MS = 300; // the camera is reported this long after the last move
const ECHOES = 16; // reported cameras remembered: one of them coming back from Python is an echo, not a link
const OVERVIEW = { share: 0.22, min: 80, max: 160, gap: 8 }; // the overview's width: a share of the plot's, bounded
const OUTLINE_MIN = 8; // CSS pixels: the smallest outline of the view the overview draws
const OUTLINE_COLOR = "#212529";

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

/** The whole map: the points' box centred, at zoom 1. */
export function home(bounds) {
  const [x0, x1, y0, y1] = bounds;
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, zoom: 1 };
}

/** Pixels per data unit at zoom 1: the points' box fitted into ``area`` with equal units across and up. */
function fitScale(bounds, area) {
  const [x0, x1, y0, y1] = bounds;
  return Math.min(area.width / (x1 - x0), area.height / (y1 - y0));
}

/**
 * ``camera`` within bounds: zoom in [1, MAX_ZOOM], and the view inside what zoom 1 shows of ``area`` (the plot area
 * {left, top, width, height} in CSS pixels), so some of the points are always in sight.
 */
export function clampCamera(camera, bounds, area) {
  const zoom = clamp(Number.isFinite(camera.zoom) ? camera.zoom : 1, 1, MAX_ZOOM);
  const fit = fitScale(bounds, area);
  const centre = home(bounds);
  const slackX = (area.width / (2 * fit)) * (1 - 1 / zoom);
  const slackY = (area.height / (2 * fit)) * (1 - 1 / zoom);
  const cx = Number.isFinite(camera.cx) ? camera.cx : centre.cx;
  const cy = Number.isFinite(camera.cy) ? camera.cy : centre.cy;
  return { cx: clamp(cx, centre.cx - slackX, centre.cx + slackX), cy: clamp(cy, centre.cy - slackY, centre.cy + slackY),
    zoom };
}

/** Data <-> CSS pixels of the canvas for ``camera`` over ``area``: {scale, toX, toY, fromX, fromY}. */
export function project(camera, bounds, area) {
  const scale = fitScale(bounds, area) * camera.zoom;
  const [mx, my] = [area.left + area.width / 2, area.top + area.height / 2];
  return { scale, toX: (x) => mx + (x - camera.cx) * scale, toY: (y) => my - (y - camera.cy) * scale,
    fromX: (px) => camera.cx + (px - mx) / scale, fromY: (py) => camera.cy - (py - my) / scale };
}

/** ``camera`` zoomed by ``factor`` about the pixel (px, py), which keeps showing the same data point. */
export function zoomAbout(camera, factor, [px, py], bounds, area) {
  const before = project(camera, bounds, area);
  const zoom = clamp(camera.zoom * factor, 1, MAX_ZOOM);
  const scale = (before.scale * zoom) / camera.zoom;
  const [mx, my] = [area.left + area.width / 2, area.top + area.height / 2];
  const cx = before.fromX(px) - (px - mx) / scale;
  const cy = before.fromY(py) + (py - my) / scale;
  return clampCamera({ cx, cy, zoom }, bounds, area);
}

/** ``camera`` moved so that the map follows the pointer by (dx, dy) CSS pixels. */
export function panBy(camera, [dx, dy], bounds, area) {
  const { scale } = project(camera, bounds, area);
  return clampCamera({ cx: camera.cx - dx / scale, cy: camera.cy + dy / scale, zoom: camera.zoom }, bounds, area);
}

/** A wheel event's zoom factor; a line or a page of wheel counts as 20 or 400 pixels. */
export function wheelFactor(event) {
  const pixels = event.deltaY * (event.deltaMode === 1 ? 20 : event.deltaMode === 2 ? 400 : 1);
  return 2 ** (-pixels * WHEEL_RATE * (event.ctrlKey ? PINCH_GAIN : 1));
}

/**
 * The camera as the page reports it and a link spells it: [cx, cy, zoom] with zoom to 4 significant digits and the
 * centre to ``decimals`` (the whole plot's resolution) plus a digit per tenfold zoom, at most 6 (the URL's); null
 * for the whole map.
 */
export function cameraValue(camera, decimals) {
  const zoom = Number(camera.zoom.toPrecision(4));
  if (!(zoom > 1)) return null;
  const digits = Math.min(6, decimals + Math.ceil(Math.log10(zoom)));
  const round = (v) => Number(v.toFixed(digits)) || 0; // no "-0"
  return [round(camera.cx), round(camera.cy), zoom];
}

/**
 * The zoom and pan of one MapView. The map gives it its canvas, its box (the element the canvas fills), its root,
 * ``bounds``, ``decimals``, ``view`` (the frame last drawn: its ``area``), ``data`` and ``args``, and ``local(event)``
 * (the pointer in CSS pixels of the canvas); it calls ``moved()`` when the camera or ``moving`` changed.
 */
export class Navigator {
  constructor(map) {
    this.map = map;
    this.camera = null; // null: the whole map, whatever its bounds
    this.enabled = false;
    this.moving = false; // a gesture is in flight: the map may transform its last dots instead of drawing them
    this.echoes = [];
    this.controls = element("div", "zoom-controls", map.box);
    this.controls.setAttribute("role", "group");
    this.controls.setAttribute("aria-label", "Zoom");
    this.zoomIn = this.button("+", "Zoom in (+)", () => this.step(KEY_FACTOR), "Zoom in");
    this.zoomOut = this.button("\u2212", "Zoom out (\u2212)", () => this.step(1 / KEY_FACTOR), "Zoom out");
    this.resetButton = this.button("Reset view", "Show the whole map again (0, or double-click the map)",
      () => this.reset());
    this.resetButton.classList.add("reset");
    const canvas = map.canvas;
    this.onWheel = (event) => this.wheel(event);
    canvas.addEventListener("keydown", (event) => this.key(event));
    canvas.addEventListener("keyup", (event) => { if (event.key === " ") this.spaceHeld = false; });
    canvas.addEventListener("blur", () => { this.spaceHeld = false; });
  }

  /** A button of the zoom controls; ``label`` names it where its text is a sign. */
  button(text, title, action, label) {
    const button = element("button", "zoom", this.controls);
    button.type = "button";
    button.textContent = text;
    button.title = title;
    if (label) button.setAttribute("aria-label", label);
    button.addEventListener("click", action);
    return button;
  }

  /** Whether the map zooms; a map that does not takes no wheel from the page and has no focus stop. */
  enable(on) {
    if (on === this.enabled) return;
    this.enabled = on;
    this.controls.hidden = !on;
    const canvas = this.map.canvas;
    if (on) {
      this.map.box.addEventListener("wheel", this.onWheel, { passive: false });
      canvas.tabIndex = 0;
    } else {
      this.map.box.removeEventListener("wheel", this.onWheel);
      canvas.removeAttribute("tabindex");
      this.camera = null;
    }
  }

  /** The camera to draw, within the map's bounds for the whole map's plot area ``frame``. */
  current(frame) {
    return this.camera ? clampCamera(this.camera, this.map.bounds, frame) : home(this.map.bounds);
  }

  get zoomed() {
    return Boolean(this.camera && this.camera.zoom > 1);
  }

  /** The camera the map's data gives (a link's, or one this page reported coming back), or null: whole map. */
  take(value) {
    const given = JSON.stringify(value ?? null);
    if (given === this.given) return;
    this.given = given;
    if (this.echoes.includes(given)) return; // our own report coming back: the page may have moved on since
    const valid = Array.isArray(value) && value.length === 3 && value.every(Number.isFinite);
    this.camera = valid ? { cx: value[0], cy: value[1], zoom: value[2] } : null;
    this.sent = given;
    this.map.moved();
  }

  /** Back to the whole map without a report: another set of points. */
  forget() {
    this.camera = null;
    this.sent = JSON.stringify(null);
  }

  /** Set the camera from a gesture; ``settling``: end the gesture at once (a key, a button), not after a pause. */
  move(camera, settling) {
    this.camera = camera;
    this.moving = !settling;
    clearTimeout(this.settleTimer);
    if (!settling) this.settleTimer = setTimeout(() => this.settle(), SETTLE_MS);
    else this.settle();
    this.map.moved();
  }

  /** A gesture ended: the camera snaps to its reported digits (what a link would show) and is reported later. */
  settle() {
    if (this.dragging) return; // the drag's end settles
    this.moving = false;
    const { frame } = this.map.view;
    const value = this.camera && cameraValue(clampCamera(this.camera, this.map.bounds, frame), this.map.decimals);
    this.camera = value && clampCamera({ cx: value[0], cy: value[1], zoom: value[2] }, this.map.bounds, frame);
    clearTimeout(this.reportTimer);
    this.reportTimer = setTimeout(() => this.report(), REPORT_MS);
    this.map.moved();
  }

  report() {
    if (this.dragging || this.moving || !this.map.data?.selectable) return;
    const value = this.camera && cameraValue(this.camera, this.map.decimals);
    const text = JSON.stringify(value);
    if (text === this.sent) return;
    this.sent = text;
    this.echoes = [...this.echoes.filter((e) => e !== text), text].slice(-ECHOES);
    // The whole map as [], not null: Streamlit hears no change from an unset state to null (a remounted map).
    this.map.args.setStateValue("viewport", value ?? []);
  }

  /** The camera's reported form on the map's root (data-zoom, data-center), for tests and benchmarks. */
  describe(camera) {
    const value = cameraValue(camera, this.map.decimals);
    const round = (v) => Number(v.toFixed(Math.min(6, this.map.decimals))) || 0;
    this.map.root.dataset.zoom = value ? String(value[2]) : "1";
    this.map.root.dataset.center = (value ? value.slice(0, 2) : [round(camera.cx), round(camera.cy)]).join(",");
    this.resetButton.hidden = !value;
    this.zoomIn.disabled = camera.zoom >= MAX_ZOOM;
    this.zoomOut.disabled = !value;
  }

  wheel(event) {
    const view = this.map.view;
    if (!view || event.deltaY === 0) return;
    event.preventDefault();
    const [x, y] = this.map.local(event);
    const { area, frame } = view;
    const at = [clamp(x, area.left, area.left + area.width), clamp(y, area.top, area.top + area.height)];
    this.move(zoomAbout(this.current(frame), wheelFactor(event), at, this.map.bounds, frame), false);
  }

  /** Zoom by ``factor`` about the plot's centre (a key or a button). */
  step(factor) {
    const { area, frame } = this.map.view;
    const centre = [area.left + area.width / 2, area.top + area.height / 2];
    this.move(zoomAbout(this.current(frame), factor, centre, this.map.bounds, frame), true);
  }

  reset() {
    if (!this.camera) return;
    this.move(null, true);
  }

  key(event) {
    if (!this.enabled || !this.map.view || event.altKey || event.ctrlKey || event.metaKey) return;
    const { area, frame } = this.map.view;
    const arrows = { ArrowLeft: [1, 0], ArrowRight: [-1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (event.key === "+" || event.key === "=") this.step(KEY_FACTOR);
    else if (event.key === "-" || event.key === "_") this.step(1 / KEY_FACTOR);
    else if (event.key === "0") this.reset();
    else if (event.key === " ") this.spaceHeld = true; // Space + drag pans in the Box and Lasso modes
    else if (arrows[event.key] && this.zoomed) {
      const [u, v] = arrows[event.key];
      this.move(panBy(this.current(frame), [u * PAN_STEP * area.width, v * PAN_STEP * area.height], this.map.bounds,
        frame), true);
    } else return;
    event.preventDefault(); // the page neither scrolls nor zooms for a key the map took
  }

  /** A drag that pans: from its start, by the pointer's moves, to its end. */
  startDrag() {
    this.dragging = true;
    this.moving = true;
    clearTimeout(this.reportTimer);
  }

  drag(delta) {
    const { frame } = this.map.view;
    this.camera = panBy(this.current(frame), delta, this.map.bounds, frame);
    this.map.moved();
  }

  endDrag() {
    this.dragging = false;
    this.settle();
  }

  // --- the overview -------------------------------------------------------------------------

  /** Where the overview sits in the plot's bottom-right corner (CSS pixels), or null when the whole map shows. */
  overviewRect(area) {
    if (!this.zoomed) return null;
    const aspect = area.height / area.width; // the overview shows what zoom 1 shows: the plot area's shape
    let width = clamp(area.width * OVERVIEW.share, OVERVIEW.min, OVERVIEW.max);
    if (width * aspect > area.height * 0.4) width = (area.height * 0.4) / aspect;
    const height = width * aspect;
    return { left: area.left + area.width - width - OVERVIEW.gap, top: area.top + area.height - height - OVERVIEW.gap,
      width, height };
  }

  inOverview([x, y]) {
    const rect = this.map.view && this.overviewRect(this.map.view.area);
    return Boolean(rect && x >= rect.left && x <= rect.left + rect.width && y >= rect.top && y <= rect.top + rect.height);
  }

  /** Centre the view on the data point under the overview's pixel (x, y): a press or drag in the overview. */
  centreOn([x, y]) {
    const { area, frame } = this.map.view;
    const rect = this.overviewRect(area);
    const whole = project(home(this.map.bounds), this.map.bounds, rect);
    const camera = { cx: whole.fromX(x), cy: whole.fromY(y), zoom: this.current(frame).zoom };
    this.camera = clampCamera(camera, this.map.bounds, frame);
    this.map.moved();
  }

  /**
   * The whole map in small, with the view's outline: drawn on ``context`` (CSS pixels). ``paint(context, project)``
   * draws the points for a projection; the picture is kept until ``stale()``.
   */
  drawOverview(context, { area, frame }, ratio, paint) {
    const rect = this.overviewRect(area);
    if (!rect) return;
    const key = [rect.width, rect.height, ratio].join();
    if (!this.overview || this.overviewKey !== key) {
      this.overviewKey = key;
      this.overview = document.createElement("canvas");
      this.overview.width = Math.round(rect.width * ratio);
      this.overview.height = Math.round(rect.height * ratio);
      const small = this.overview.getContext("2d");
      small.setTransform(ratio, 0, 0, ratio, 0, 0);
      small.fillStyle = "rgba(255, 255, 255, 0.92)";
      small.fillRect(0, 0, rect.width, rect.height);
      const box = { left: 0, top: 0, width: rect.width, height: rect.height };
      paint(small, project(home(this.map.bounds), this.map.bounds, box));
    }
    context.drawImage(this.overview, rect.left, rect.top, rect.width, rect.height);
    context.strokeStyle = "#868e96";
    context.lineWidth = 1;
    context.strokeRect(rect.left + 0.5, rect.top + 0.5, rect.width - 1, rect.height - 1);
    // The view's outline: the plot area seen through the whole map's projection onto the overview.
    const view = project(this.current(frame), this.map.bounds, frame);
    const whole = project(home(this.map.bounds), this.map.bounds, rect);
    const [ax, ay] = [whole.toX(view.fromX(area.left)), whole.toY(view.fromY(area.top))];
    const [bx, by] = [whole.toX(view.fromX(area.left + area.width)), whole.toY(view.fromY(area.top + area.height))];
    context.save();
    context.beginPath();
    context.rect(rect.left, rect.top, rect.width, rect.height);
    context.clip();
    // At least OUTLINE_MIN pixels across, about the view's centre, so that a deep zoom still shows where it is;
    // dark on a white halo, to stand out on points of any colour.
    const [w, h] = [Math.max(OUTLINE_MIN, bx - ax), Math.max(OUTLINE_MIN, by - ay)];
    const [left, top] = [(ax + bx - w) / 2, (ay + by - h) / 2];
    context.strokeStyle = "rgba(255, 255, 255, 0.9)";
    context.lineWidth = 4;
    context.strokeRect(left, top, w, h);
    context.strokeStyle = OUTLINE_COLOR;
    context.lineWidth = 2;
    context.strokeRect(left, top, w, h);
    context.restore();
  }

  /** The points or their colours changed: the overview is drawn again. */
  stale() {
    this.overview = null;
  }

  /** Place the zoom buttons in the plot's top-right corner. */
  place(area, width) {
    this.controls.style.top = `${area.top + 6}px`;
    this.controls.style.right = `${width - area.left - area.width + 6}px`;
  }

  destroy() {
    clearTimeout(this.settleTimer);
    clearTimeout(this.reportTimer);
    this.map.box.removeEventListener("wheel", this.onWheel);
  }
}
