// The live decoder: a VAE's decoder evaluated in the page, so a digit follows the pointer. One interpreter runs
// the layer list that comes with each model's weights (vae_core/layer_list.py), whatever the architecture; the
// weights' header says the image's shape (channels, side), and the views draw its logits as an S x S picture, grey
// or RGB, at the size the CSS gives the canvas whatever S is.
//
// One module serves two kinds of mount (see live_decoder.py):
//   - data is bytes: a bundle of weights payloads (empty when the page holds them all); each is
//     parsed once and kept in a registry shared by every mount of this page (weights travel
//     once per model per browser session);
//   - data is an object: a view ("explorer" sliders + latent plane, or "walk" across models)
//     that decodes on every input event and draws at the next animation frame.
// Python stays the source of truth: values go back through setStateValue on release or pause.
// Nothing here evaluates strings or fetches anything; text is set with textContent only.
// The root of each view names the model(s) it decodes with (data-model, comma-separated for a walk) and,
// once their weights have arrived and it has drawn, data-drawn: the same names.

import {
  SIDE, describe, drawPicture, element, mountPoint, mountView, pictureShape, readMessage, requestDraw,
} from "./base.js";

const MAGIC = "VAEW";
const PAUSE_MS = 250; // a drag that rests this long reports its value, as a release does
const DIGIT_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

const registry = (globalThis.__vaeLiveDecoder ??= { models: new Map(), listeners: new Set() });
// The page's tests and benchmarks check the pixels through the same two functions the views use: decode gives a
// model's levels, channels first; drawDigit draws them in that model's shape (without an id, the shape their count
// implies: side x side grey or 3 x side x side RGB).
registry.decode = (id, z) => decode(registry.models.get(id), z);
registry.drawDigit = (canvas, levels, id) => {
  const model = id === undefined ? null : registry.models.get(id);
  const [channels, side] = model ? [model.channels, model.side] : pictureShape(levels.length);
  drawPicture(canvas, levels, channels, side);
};
const views = new WeakMap(); // parentElement -> view state, kept across reruns

// --- weights and the decoder --------------------------------------------------------------

/**
 * Parse "VAEW" | u32 header length | JSON header | pad to 4 | float32 tensors in the header's order.
 * The header carries the decoder's layer list ("layers", see vae_core/layer_list.py) and each tensor's
 * name and shape, as torch stores them, and the image's shape (channels: 1 grey or 3 RGB, side; 1 and 28 when
 * absent); a decoder the page cannot run has layers null, a "server" phrase saying why, and no tensors: the views
 * show the server's pixels for it.
 */
export function parseWeights(bytes) {
  const message = readMessage(bytes, MAGIC);
  const header = message.header;
  const start = message.start + ((4 - (message.start % 4)) % 4);
  const sizes = header.tensors.map(([, shape]) => size(shape));
  if (start + 4 * sizes.reduce((a, b) => a + b, 0) !== bytes.byteLength) {
    throw new Error("weights payload has the wrong length");
  }
  // Copy into an aligned buffer: the payload's offset inside the message need not be a multiple of 4.
  const floats = new Float32Array(bytes.slice(start).buffer);
  const tensors = {};
  let offset = 0;
  header.tensors.forEach(([name, shape], i) => {
    tensors[name] = { data: floats.subarray(offset, offset + sizes[i]), shape };
    offset += sizes[i];
  });
  return compile(header, tensors);
}

function size(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The model the views decode with: one step per layer of the list and two buffers as large as its
 * largest layer, allocated here once, so decoding a frame allocates nothing.
 */
export function compile(header, tensors) {
  const latentDim = header.latent_dim;
  const picture = { channels: header.channels ?? 1, side: header.side ?? SIDE };
  picture.pixels = picture.channels * picture.side * picture.side;
  if (!header.layers) {
    return { id: header.id, latentDim, ...picture, server: header.server || "cannot be run in the page" };
  }
  let shape = [latentDim];
  let largest = latentDim;
  const steps = [];
  header.layers.forEach((layer, i) => {
    const step = STEPS[layer.op]?.(layer, shape, layer.out, tensors);
    if (step === undefined) throw new Error(`layer ${i} (${layer.op}) is not one the page runs or does not fit`);
    if (step) steps.push(step);
    shape = layer.out;
    largest = Math.max(largest, size(shape));
  });
  if (size(shape) !== picture.pixels) {
    throw new Error(`the decoder does not end in ${picture.channels} x ${picture.side} x ${picture.side} logits`);
  }
  return { id: header.id, latentDim, ...picture, steps,
    buffers: [new Float64Array(largest), new Float64Array(largest)] };
}

/**
 * z [D] -> levels [channels x side x side] in 0..255 (Uint8ClampedArray), the sigmoid of the decoder's logits,
 * channels first as the logits are (a grey model's: its grey levels, row-major).
 */
export function decode(model, z, out = new Uint8ClampedArray(model.pixels)) {
  let [from, to] = model.buffers;
  for (let d = 0; d < model.latentDim; d++) from[d] = z[d];
  for (const step of model.steps) {
    if (step(from, to)) { // wrote into `to`: it holds the layer's output now
      const swap = from;
      from = to;
      to = swap;
    }
  }
  for (let p = 0; p < model.pixels; p++) out[p] = Math.round(255 / (1 + Math.exp(-from[p])));
  return out;
}

// Each maker checks the layer against its input shape and returns step(from, to) -> whether it wrote `to`
// (false: it worked in place), null for a layer with nothing to do (a reshape keeps the data's order),
// or undefined when the layer does not fit.
const STEPS = {
  linear: linearStep,
  conv2d: convStep,
  conv_transpose2d: transposedConvStep,
  upsample: upsampleStep,
  relu: reluStep,
  leaky_relu: reluStep,
  tanh: (layer, input) => {
    const n = size(input);
    return (from) => {
      for (let i = 0; i < n; i++) from[i] = Math.tanh(from[i]);
      return false;
    };
  },
  sigmoid: (layer, input) => {
    const n = size(input);
    return (from) => {
      for (let i = 0; i < n; i++) from[i] = 1 / (1 + Math.exp(-from[i]));
      return false;
    };
  },
  reshape: (layer, input, output) => (size(input) === size(output) ? null : undefined),
};

/** ReLU, or LeakyReLU with its slope, in place (one loop each, so neither pays for a function call per value). */
function reluStep(layer, input) {
  const n = size(input);
  const slope = layer.op === "leaky_relu" ? layer.slope : 0;
  return (from) => {
    for (let i = 0; i < n; i++) if (from[i] < 0) from[i] *= slope;
    return false;
  };
}

function fits(tensor, shape) {
  return Boolean(tensor) && tensor.shape.length === shape.length && tensor.shape.every((v, i) => v === shape[i]);
}

function parameters(layer, tensors, weightShape, outChannels) {
  const weight = tensors[layer.weight];
  const bias = layer.bias ? tensors[layer.bias] : null;
  if (!fits(weight, weightShape) || (layer.bias && !fits(bias, [outChannels]))) return null;
  return { w: weight.data, b: bias ? bias.data : new Float32Array(outChannels) };
}

/** torch's Linear: out[j] = b[j] + sum_i w[j, i] in[i]; weight [out, in]. */
function linearStep(layer, input, output, tensors) {
  const n = size(input);
  const m = output[0];
  const p = output.length === 1 ? parameters(layer, tensors, [m, n], m) : null;
  if (!p) return undefined;
  const { w, b } = p;
  return (from, to) => {
    for (let j = 0; j < m; j++) {
      let sum = b[j];
      const row = j * n;
      for (let i = 0; i < n; i++) sum += w[row + i] * from[i];
      to[j] = sum;
    }
    return true;
  };
}

/** The sizes of a convolution's input [C, H, W] and output, or null when either is not [C, H, W]. */
function planes(input, output) {
  if (input.length !== 3 || output.length !== 3) return null;
  return { inC: input[0], h: input[1], w: input[2], outC: output[0], oh: output[1], ow: output[2] };
}

/** torch's Conv2d (groups 1, dilation 1, zero padding): weight [outC, inC, kH, kW]. */
function convStep(layer, input, output, tensors) {
  const s = planes(input, output);
  if (!s) return undefined;
  const { inC, h, w: width, outC, oh, ow } = s;
  const [kh, kw] = tensors[layer.weight]?.shape.slice(2) ?? [0, 0];
  const [sy, sx] = layer.stride;
  const [py, px] = layer.padding;
  const p = parameters(layer, tensors, [outC, inC, kh, kw], outC);
  if (!p || oh !== Math.floor((h + 2 * py - kh) / sy) + 1 || ow !== Math.floor((width + 2 * px - kw) / sx) + 1) {
    return undefined;
  }
  const { w, b } = p;
  return (from, to) => {
    for (let oc = 0; oc < outC; oc++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let sum = b[oc];
          for (let ic = 0; ic < inC; ic++) {
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sy - py + ky;
              if (iy < 0 || iy >= h) continue;
              const row = (ic * h + iy) * width;
              const kernel = ((oc * inC + ic) * kh + ky) * kw;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sx - px + kx;
                if (ix >= 0 && ix < width) sum += w[kernel + kx] * from[row + ix];
              }
            }
          }
          to[(oc * oh + oy) * ow + ox] = sum;
        }
      }
    }
    return true;
  };
}

/**
 * torch's ConvTranspose2d (groups 1, dilation 1): weight [inC, outC, kH, kW]. Each input value adds
 * itself, times the kernel, to the outputs it reaches (oy = iy sy - py + ky); zeros (after a ReLU) are skipped.
 */
function transposedConvStep(layer, input, output, tensors) {
  const s = planes(input, output);
  if (!s) return undefined;
  const { inC, h, w: width, outC, oh, ow } = s;
  const [kh, kw] = tensors[layer.weight]?.shape.slice(2) ?? [0, 0];
  const [sy, sx] = layer.stride;
  const [py, px] = layer.padding;
  const [qy, qx] = layer.output_padding;
  const p = parameters(layer, tensors, [inC, outC, kh, kw], outC);
  if (!p || oh !== (h - 1) * sy - 2 * py + kh + qy || ow !== (width - 1) * sx - 2 * px + kw + qx) return undefined;
  const { w, b } = p;
  const area = oh * ow;
  const kernelArea = kh * kw;
  return (from, to) => {
    for (let oc = 0; oc < outC; oc++) to.fill(b[oc], oc * area, (oc + 1) * area);
    for (let ic = 0; ic < inC; ic++) {
      for (let iy = 0; iy < h; iy++) {
        for (let ix = 0; ix < width; ix++) {
          const value = from[(ic * h + iy) * width + ix];
          if (value === 0) continue;
          for (let ky = 0; ky < kh; ky++) {
            const oy = iy * sy - py + ky;
            if (oy < 0 || oy >= oh) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ox = ix * sx - px + kx;
              if (ox < 0 || ox >= ow) continue;
              const first = (ic * outC * kh + ky) * kw + kx; // weight[ic][0][ky][kx]; each oc adds kH kW
              const at = oy * ow + ox;
              for (let oc = 0; oc < outC; oc++) to[oc * area + at] += value * w[first + oc * kernelArea];
            }
          }
        }
      }
    }
    return true;
  };
}

/** Nearest-neighbour upsampling by whole factors: [C, H, W] -> [C, sy H, sx W]. */
function upsampleStep(layer, input, output) {
  const s = planes(input, output);
  const [sy, sx] = layer.scale;
  if (!s || s.outC !== s.inC || s.oh !== s.h * sy || s.ow !== s.w * sx) return undefined;
  const { inC, h, w: width, oh, ow } = s;
  return (from, to) => {
    for (let c = 0; c < inC; c++) {
      for (let oy = 0; oy < oh; oy++) {
        const row = (c * h + Math.floor(oy / sy)) * width;
        const at = (c * oh + oy) * ow;
        for (let ox = 0; ox < ow; ox++) to[at + ox] = from[row + Math.floor(ox / sx)];
      }
    }
    return true;
  };
}

/** "VAEB" | (u32 length | one parseWeights payload)*: the weights of several models in one message. */
export function parseBundle(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== "VAEB") throw new Error("not a weights bundle");
  const models = [];
  for (let offset = 4; offset < bytes.byteLength;) {
    const length = view.getUint32(offset, true);
    models.push(parseWeights(bytes.subarray(offset + 4, offset + 4 + length)));
    offset += 4 + length;
  }
  return models;
}

function register(bytes) {
  if (bytes.byteLength === 0) return; // nothing new this run: the page holds every model it needs
  for (const model of parseBundle(bytes)) registry.models.set(model.id, model);
  for (const listener of [...registry.listeners]) listener();
}

// --- small helpers ------------------------------------------------------------------------------

/** A canvas for a decoded picture, 28 x 28 until a model of another shape draws on it (CSS scales it up with crisp
 * pixels to the same size whatever its side), described by ``label``. */
function digitCanvas(parent, label) {
  const canvas = element("canvas", "digit", parent);
  canvas.width = SIDE;
  canvas.height = SIDE;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", label);
  return canvas;
}

/** A buffer for ``model``'s levels: ``buffer`` when it is the right size, else a new one. */
function levelsFor(model, buffer) {
  return buffer?.length === model.pixels ? buffer : new Uint8ClampedArray(model.pixels);
}

/** Decode ``z`` with ``model`` into its levels buffer (returned) and draw them on ``canvas``. */
function drawDecoded(canvas, model, z, buffer) {
  const levels = decode(model, z, levelsFor(model, buffer));
  drawPicture(canvas, levels, model.channels, model.side);
  return levels;
}

/** Draw the server's levels of ``model``'s picture (a decoder the page cannot run); the buffer used, or null when
 * their count is not the model's. */
function drawServed(canvas, model, served, buffer) {
  if (!served || served.length !== model.pixels) return null;
  const levels = levelsFor(model, buffer);
  levels.set(served);
  drawPicture(canvas, levels, model.channels, model.side);
  return levels;
}

function snap(value, range, step) {
  const clipped = Math.min(range[1], Math.max(range[0], value));
  return Math.round(clipped / step) * step;
}

function format(value) {
  return (Math.round(value * 100) / 100).toFixed(2);
}

// --- the explorer view: sliders, the decoded digit and a hover plane -----------------------

class ExplorerView {
  constructor(root, args) {
    this.args = args;
    this.values = {};
    this.signature = null;
    this.hover = null;
    this.sent = null;
    this.frame = 0;
    this.levels = null; // the decoded picture's levels, sized for the model on its first draw
    this.root = mountPoint(root, "vae-live explorer");
    this.planeBox = element("div", "plane-box", this.root);
    this.plane = element("canvas", "plane", this.planeBox);
    this.plane.setAttribute("role", "img");
    this.planeNote = element("div", "note", this.planeBox);
    this.sliders = element("div", "sliders", this.root);
    this.sliders.setAttribute("role", "group");
    this.sliders.setAttribute("aria-label", "Latent coordinates");
    const digitBox = element("div", "digit-box", this.root);
    this.digit = digitCanvas(digitBox, "The digit decoded at the sliders' point");
    this.status = element("div", "note status", digitBox);
    this.plane.addEventListener("pointermove", (event) => this.onHover(event));
    this.plane.addEventListener("pointerleave", () => { this.hover = null; requestDraw(this); });
    this.plane.addEventListener("click", (event) => this.onPin(event));
    this.listener = () => requestDraw(this);
    registry.listeners.add(this.listener);
  }

  update(data) {
    const first = this.signature === null;
    if (first || data.signature !== this.signature) {
      this.values = { ...data.values }; // a new start point (or first mount): Python's values win
      this.signature = data.signature;
      this.sent = JSON.stringify(this.values);
    }
    for (const [dim, value] of Object.entries(data.values)) {
      if (!(dim in this.values)) this.values[dim] = value; // a slider shown for the first time
    }
    if (this.data?.model !== data.model) delete this.root.dataset.drawn;
    this.data = data;
    describe(this.root, { view: "explorer", model: data.model });
    this.buildSliders();
    this.planeBox.hidden = !data.plane;
    if (data.plane) {
      this.plane.setAttribute("aria-label", `Latent plane of z[${data.plane.x}] across and z[${data.plane.y}] up, `
        + "with the test set's means coloured by class; hover to decode a point, click to pin it");
    }
    this.root.classList.toggle("with-plane", Boolean(data.plane));
    // Redraw the plane's dots only when they change: a rerun after each reported value must stay cheap.
    const planeKey = data.plane && [data.model, data.plane.x, data.plane.y, data.plane.points.x.length].join();
    if (planeKey !== this.planeKey) {
      this.planeKey = planeKey;
      this.planeBackground = null;
    }
    requestDraw(this);
  }

  buildSliders() {
    const { dims, labels, range, step } = this.data;
    const layout = JSON.stringify([dims, labels, range, step]);
    if (layout === this.sliderLayout) {
      for (const [dim, input] of this.inputs) {
        if (document.activeElement !== input) input.value = this.values[dim];
        this.outputs.get(dim).textContent = format(this.values[dim]);
      }
      return;
    }
    this.sliderLayout = layout;
    this.inputs = new Map();
    this.outputs = new Map();
    this.sliders.replaceChildren();
    dims.forEach((dim, i) => {
      const row = element("label", "slider", this.sliders);
      const head = element("span", "slider-head", row);
      element("span", "slider-label", head).textContent = labels[i];
      const output = element("span", "slider-value", head);
      const input = element("input", "", row);
      input.type = "range";
      input.min = range[0];
      input.max = range[1];
      input.step = step;
      input.value = this.values[dim];
      input.dataset.dim = dim;
      output.textContent = format(this.values[dim]);
      input.addEventListener("input", () => this.onSlide(dim, input));
      // A release reports at once; arrow keys (each a change) report after a pause, so a held key
      // does not queue one server run per step.
      input.addEventListener("keydown", () => { this.viaKeys = true; });
      input.addEventListener("pointerdown", () => { this.viaKeys = false; });
      input.addEventListener("change", () => (this.viaKeys ? this.reportAfterPause() : this.report()));
      this.inputs.set(dim, input);
      this.outputs.set(dim, output);
    });
  }

  onSlide(dim, input) {
    this.values[dim] = Number(input.value);
    this.outputs.get(dim).textContent = format(this.values[dim]);
    requestDraw(this);
    this.reportAfterPause();
  }

  reportAfterPause() {
    clearTimeout(this.pause);
    this.pause = setTimeout(() => this.report(), PAUSE_MS);
  }

  /** Send the slider point to Python (once per distinct point): the reading and captions follow. */
  report() {
    clearTimeout(this.pause);
    const text = JSON.stringify(this.values);
    if (text === this.sent) return;
    this.sent = text;
    this.args.setStateValue("point", { signature: this.signature, values: { ...this.values } });
  }

  point() {
    const z = Float64Array.from(this.data.base);
    for (const dim of this.data.dims) z[dim] = this.values[dim];
    if (this.hover) {
      z[this.data.plane.x] = this.hover[0];
      z[this.data.plane.y] = this.hover[1];
    }
    return z;
  }

  planeCoordinates(event) {
    const box = this.plane.getBoundingClientRect();
    const [low, high] = this.data.range;
    const u = (event.clientX - box.left) / box.width;
    const v = (event.clientY - box.top) / box.height;
    return [low + u * (high - low), high - v * (high - low)];
  }

  onHover(event) {
    this.hover = this.planeCoordinates(event);
    requestDraw(this);
  }

  onPin(event) {
    const [x, y] = this.planeCoordinates(event);
    const { plane, range, step } = this.data;
    this.values[plane.x] = snap(x, range, step);
    this.values[plane.y] = snap(y, range, step);
    for (const dim of [plane.x, plane.y]) {
      const input = this.inputs.get(dim);
      if (input) input.value = this.values[dim];
      if (this.outputs.has(dim)) this.outputs.get(dim).textContent = format(this.values[dim]);
    }
    this.report();
    requestDraw(this);
  }

  draw() {
    const model = registry.models.get(this.data.model);
    if (!model) {
      this.status.textContent = "Loading the decoder's weights…";
      return;
    }
    this.args.reportHeld();
    const z = this.point();
    if (model.server) {
      this.drawServer(model);
    } else {
      this.levels = drawDecoded(this.digit, model, z, this.levels);
      this.digit.dataset.point = Array.from(z, format).join(",");
    }
    this.root.dataset.drawn = model.id;
    this.status.textContent = model.server ? (this.data.server?.note ?? model.server) : this.hover
      ? `Under the cursor: z[${this.data.plane.x}] = ${format(this.hover[0])}, z[${this.data.plane.y}] = `
        + `${format(this.hover[1])} (click to pin)`
      : "Decoded in your browser as you drag.";
    if (this.data.plane) this.drawPlane(z);
  }

  /** A decoder the page cannot run: the picture the server decoded at the point last reported (data.server). */
  drawServer(model) {
    const server = this.data.server;
    const levels = drawServed(this.digit, model, server?.grey, this.levels);
    if (!levels) return;
    this.levels = levels;
    this.digit.dataset.point = server.point.map(format).join(",");
  }

  drawPlane(z) {
    const { plane, range } = this.data;
    const size = Math.round(this.plane.clientWidth * devicePixelRatio) || 360;
    if (this.plane.width !== size) {
      this.plane.width = this.plane.height = size;
      this.planeBackground = null;
    }
    if (!this.planeBackground) this.planeBackground = planeBackground(plane, range, size);
    const context = this.plane.getContext("2d");
    context.drawImage(this.planeBackground, 0, 0);
    const toPixel = (value, flip) => {
      const u = (value - range[0]) / (range[1] - range[0]);
      return (flip ? 1 - u : u) * size;
    };
    const x = toPixel(this.values[plane.x] ?? this.data.base[plane.x], false);
    const y = toPixel(this.values[plane.y] ?? this.data.base[plane.y], true);
    context.strokeStyle = "#111";
    context.lineWidth = 2 * devicePixelRatio;
    context.beginPath();
    context.arc(x, y, 7 * devicePixelRatio, 0, 2 * Math.PI);
    context.stroke();
    if (this.hover) {
      context.fillStyle = "rgba(76, 110, 245, 0.9)";
      context.beginPath();
      context.arc(toPixel(z[plane.x], false), toPixel(z[plane.y], true), 5 * devicePixelRatio, 0, 2 * Math.PI);
      context.fill();
    }
    this.planeNote.textContent = plane.note;
  }

  destroy() {
    registry.listeners.delete(this.listener);
    clearTimeout(this.pause);
    cancelAnimationFrame(this.frame);
  }
}

/** The plane's static layer: a light grid, axis ticks and the test means coloured by class. */
function planeBackground(plane, range, size) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  const context = canvas.getContext("2d");
  const scale = size / (range[1] - range[0]);
  context.fillStyle = "#fff";
  context.fillRect(0, 0, size, size);
  context.strokeStyle = "#e3e3e3";
  context.fillStyle = "#595959"; // 7:1 on white
  context.font = `${11 * devicePixelRatio}px sans-serif`;
  for (let tick = Math.ceil(range[0]); tick <= range[1]; tick++) {
    const at = (tick - range[0]) * scale;
    context.lineWidth = tick === 0 ? 2 : 1;
    context.beginPath();
    context.moveTo(at, 0);
    context.lineTo(at, size);
    context.moveTo(0, size - at);
    context.lineTo(size, size - at);
    context.stroke();
    if (tick !== range[0] && tick !== range[1]) {
      context.fillText(String(tick), at + 2, size - 3);
      context.fillText(String(tick), 2, size - at - 2);
    }
  }
  const radius = 1.6 * devicePixelRatio;
  context.globalAlpha = 0.55;
  plane.points.x.forEach((x, i) => {
    context.fillStyle = DIGIT_COLORS[plane.points.labels[i] % 10];
    context.fillRect((x - range[0]) * scale - radius, size - (plane.points.y[i] - range[0]) * scale - radius,
      2 * radius, 2 * radius);
  });
  context.globalAlpha = 1;
  context.fillStyle = "#333";
  context.fillText(`z[${plane.x}] →`, size - 48 * devicePixelRatio, size - 16 * devicePixelRatio);
  context.fillText(`z[${plane.y}] ↑`, 4 * devicePixelRatio, 14 * devicePixelRatio);
  return canvas;
}

// --- the walk view: one digit per model along a line, driven by one slider -----------------

class WalkView {
  constructor(root, args) {
    this.args = args;
    this.frame = 0;
    this.signature = null;
    this.playing = false;
    this.root = mountPoint(root, "vae-live walk");
    const controls = element("div", "walk-controls", this.root);
    this.play = element("button", "play", controls);
    this.play.type = "button";
    this.play.textContent = "▶ Play";
    this.input = element("input", "walk-slider", controls);
    this.input.type = "range";
    this.input.min = 0;
    this.input.max = 1;
    this.input.step = 0.005;
    this.input.setAttribute("aria-label", "Position along the walk");
    this.position = element("span", "slider-value", controls);
    this.columns = element("div", "walk-columns", this.root);
    this.status = element("div", "note status", this.root);
    this.input.addEventListener("input", () => { this.t = Number(this.input.value); requestDraw(this); });
    this.input.addEventListener("change", () => this.args.setStateValue("t", this.t));
    this.play.addEventListener("click", () => this.toggle());
    this.listener = () => requestDraw(this);
    registry.listeners.add(this.listener);
  }

  update(data) {
    if (data.signature !== this.signature) {
      this.signature = data.signature;
      this.t = data.t;
      this.input.value = this.t;
      this.columns.replaceChildren();
      this.canvases = data.walks.map((walk) => {
        const column = element("div", "walk-column", this.columns);
        element("div", "walk-label", column).textContent = walk.label;
        const canvas = digitCanvas(column, `The digit ${walk.label} decodes at this point of the walk`);
        canvas.dataset.model = walk.model;
        return canvas;
      });
      this.levels = data.walks.map(() => null); // each walk's levels, sized for its model on its first draw
      delete this.root.dataset.drawn;
    }
    this.data = data;
    describe(this.root, { view: "walk", model: data.walks.map((walk) => walk.model).join(",") });
    requestDraw(this);
  }

  toggle() {
    this.playing = !this.playing;
    this.play.textContent = this.playing ? "❚❚ Pause" : "▶ Play";
    let last = performance.now();
    const step = (now) => {
      if (!this.playing) return;
      this.t = (this.t + (now - last) / 4000) % 1; // one pass every 4 s
      last = now;
      this.input.value = this.t;
      this.draw();
      requestAnimationFrame(step);
    };
    if (this.playing) requestAnimationFrame(step);
    else this.args.setStateValue("t", this.t);
  }

  draw() {
    let missing = 0;
    this.data.walks.forEach((walk, i) => {
      const model = registry.models.get(walk.model);
      if (!model) {
        missing += 1;
        return;
      }
      if (model.server) { // a decoder the page cannot run: the server's picture at the position last reported
        this.levels[i] = drawServed(this.canvases[i], model, walk.grey, this.levels[i]) ?? this.levels[i];
        return;
      }
      const z = walk.start.map((a, d) => a + (walk.end[d] - a) * this.t);
      this.levels[i] = drawDecoded(this.canvases[i], model, z, this.levels[i]);
    });
    this.position.textContent = `${Math.round(this.t * 100)}%`;
    this.status.textContent = missing ? "Loading the decoders' weights…" : this.data.note;
    if (!missing) {
      this.root.dataset.drawn = this.root.dataset.model;
      this.args.reportHeld();
    }
  }

  destroy() {
    registry.listeners.delete(this.listener);
    this.playing = false;
    cancelAnimationFrame(this.frame);
  }
}

// --- the component's entry point ------------------------------------------------------------

const VIEWS = { explorer: ExplorerView, walk: WalkView };

export default function liveDecoder({ data, parentElement, setStateValue }) {
  if (data instanceof Uint8Array || data instanceof ArrayBuffer) {
    register(data instanceof Uint8Array ? data : new Uint8Array(data));
    return undefined;
  }
  if (!data || !VIEWS[data.view]) return undefined;
  const needed = data.view === "walk" ? data.walks.map((walk) => walk.model) : [data.model];
  const args = {
    setStateValue,
    // Tell Python which weights this page holds, so it stops mounting them; once per new set.
    reportHeld() {
      const held = needed.filter((id) => registry.models.has(id)).sort();
      const known = [...(data.held || [])].sort();
      if (held.some((id) => !known.includes(id)) && JSON.stringify(held) !== this.lastHeld) {
        this.lastHeld = JSON.stringify(held);
        setStateValue("held", held);
      }
    },
  };
  return mountView(views, VIEWS[data.view], parentElement, args, data);
}
