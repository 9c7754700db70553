// What colours the latent map's points and the density lines under them (canvas.js's MapView); Python builds both
// (map_colour.py) and the map draws them through its camera, so they follow the zoom and the PNG export.
//
// A colouring is {by, values: [one per point], range: [low, high], title, unit, stops: [CSS colours]}: a value's
// colour is the stops' colour at (value - low) / (high - low), clamped, from a table of SHADES colours. Its colour
// bar sits under the legend (and under the exported picture). Contours are [{class: k or null, level, segments:
// [x0, y0, x1, y1, ...]}] in data coordinates: a class's lines in its colour, all points' lines in grey.

import { element, tickLabel } from "./base.js";

const SHADES = 256;
const BAR = { width: 180, height: 10 }; // CSS pixels of the colour bar's ramp
const ALL_LINES = "#495057";
const LINE_WIDTHS = [1, 1.25, 1.5]; // the outermost level first: the denser the region, the bolder its line
export const BAR_BAND = 34; // CSS pixels the exported picture adds under the map for the colour bar

/** '#31688e' -> [49, 104, 142]. */
function rgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** SHADES CSS colours evenly along ``stops`` (linear in RGB between neighbouring stops). */
export function shadeTable(stops) {
  const colours = stops.map(rgb);
  return Array.from({ length: SHADES }, (_, s) => {
    const at = (s / (SHADES - 1)) * (colours.length - 1);
    const k = Math.min(colours.length - 2, Math.floor(at));
    const t = at - k;
    const [r, g, b] = colours[k].map((c, j) => Math.round(c + t * (colours[k + 1][j] - c)));
    return `rgb(${r}, ${g}, ${b})`;
  });
}

/** The shade (0..SHADES-1) of each value of ``colouring``, and the point indices from low to high (drawn so). */
export function shades(colouring) {
  const [low, high] = colouring.range;
  const out = Uint8Array.from(colouring.values, (v) => Math.round(Math.min(1, Math.max(0, (v - low) / (high - low)))
    * (SHADES - 1)));
  const order = Uint32Array.from(out.keys()).sort((a, b) => out[a] - out[b]);
  return { shade: out, order };
}

/** A value as the hover text and the bar say it: four significant digits and the unit. */
export function valueText(value, colouring) {
  const unit = colouring.unit === "nats" ? " nats" : "";
  return `${Number(value.toPrecision(4))}${unit}`;
}

/** The colour bar's title: 'Reconstruction error (negative ELBO), nats'. */
function barTitle(colouring) {
  return colouring.unit ? `${colouring.title}, ${colouring.unit}` : colouring.title;
}

/** The colour bar element (hidden while the points are coloured by class), in ``parent``. */
export class ColourBar {
  constructor(parent) {
    this.root = element("div", "colour-bar", parent);
    this.root.setAttribute("role", "img");
    this.root.hidden = true;
    this.title = element("span", "bar-title", this.root);
    this.low = element("span", "bar-value", this.root);
    this.ramp = element("canvas", "bar-ramp", this.root);
    this.high = element("span", "bar-value", this.root);
  }

  show(colouring) {
    this.root.hidden = !colouring;
    if (!colouring) return;
    const [low, high] = colouring.range;
    this.title.textContent = barTitle(colouring);
    this.low.textContent = `≤ ${tickLabel(Number(low.toPrecision(4)))}`;
    this.high.textContent = `≥ ${tickLabel(Number(high.toPrecision(4)))}`;
    this.root.setAttribute("aria-label", `Colour bar: ${barTitle(colouring)}, from ${this.low.textContent} (dark `
      + `purple) to ${this.high.textContent} (yellow)`);
    const ratio = devicePixelRatio;
    [this.ramp.width, this.ramp.height] = [BAR.width * ratio, BAR.height * ratio];
    this.ramp.style.width = `${BAR.width}px`;
    this.ramp.style.height = `${BAR.height}px`;
    const context = this.ramp.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    drawRamp(context, colouring.stops, 0, 0, BAR.width, BAR.height);
  }
}

function drawRamp(context, stops, x, y, width, height) {
  const table = shadeTable(stops);
  const step = width / SHADES;
  table.forEach((colour, s) => {
    context.fillStyle = colour;
    context.fillRect(x + s * step, y, step + 0.5, height);
  });
}

/** The colour bar drawn onto the exported picture, in the band of BAR_BAND CSS pixels whose top is ``top``. */
export function drawColourBar(context, colouring, left, top) {
  const [low, high] = colouring.range;
  context.fillStyle = "#333";
  context.font = "12px sans-serif";
  context.textAlign = "left";
  context.textBaseline = "middle";
  const middle = top + BAR_BAND / 2;
  let x = left;
  for (const [text, ramp] of [[barTitle(colouring), false], [`≤ ${tickLabel(Number(low.toPrecision(4)))}`, false],
    [null, true], [`≥ ${tickLabel(Number(high.toPrecision(4)))}`, false]]) {
    if (ramp) {
      drawRamp(context, colouring.stops, x, middle - BAR.height / 2, BAR.width, BAR.height);
      x += BAR.width + 8;
    } else {
      context.fillStyle = "#333";
      context.fillText(text, x, middle);
      x += context.measureText(text).width + 8;
    }
  }
  context.textBaseline = "alphabetic";
}

/** The density lines under the points, through the map's ``view``; a hidden class's lines are not drawn. */
export function drawContours(context, view, contours, colors, hidden) {
  if (!contours?.length) return;
  context.save();
  context.globalAlpha = 0.85;
  context.lineCap = "round";
  for (const line of contours) {
    if (line.class !== null && hidden.has(line.class)) continue;
    const s = line.segments;
    context.strokeStyle = line.class === null ? ALL_LINES : colors[line.class];
    context.lineWidth = LINE_WIDTHS[Math.min(line.level, LINE_WIDTHS.length - 1)];
    context.beginPath();
    for (let k = 0; k + 3 < s.length; k += 4) {
      context.moveTo(view.toX(s[k]), view.toY(s[k + 1]));
      context.lineTo(view.toX(s[k + 2]), view.toY(s[k + 3]));
    }
    context.stroke();
  }
  context.restore();
}
