// What our two components (canvas.js, live_decoder.js) share: DOM helpers, the binary messages' header,
// pictures (grey or RGB, any side; MNIST's 28 x 28 grey by default), one draw per animation frame, axis ticks and
// the mount of a view.
//
// Both components import this file from beside them: Streamlit serves each component's folder
// (see assets.py), so "./base.js" resolves in the page, and Node imports it the same way in the tests.
// Nothing here keeps state: each component holds its own registry and views.

export const SIDE = 28; // MNIST's side, and the drawing pad's: a payload that states no shape is 1 x 28 x 28
export const PIXELS = SIDE * SIDE;

/** A new element with an optional class, appended to ``parent`` when given. */
export function element(tag, className, parent) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (parent) parent.appendChild(node);
  return node;
}

/** A fresh top-level node for a view; Streamlit's own <style> in the (shadow) root stays. */
export function mountPoint(root, className) {
  const family = className.split(" ")[0];
  root.querySelectorAll(`:scope > .${family}`).forEach((node) => node.remove());
  return element("div", className, root);
}

/** Set ``data-*`` attributes from {name: value}; a null or undefined value removes its attribute. */
export function describe(node, fields) {
  for (const [name, value] of Object.entries(fields)) {
    if (value === null || value === undefined) delete node.dataset[name];
    else node.dataset[name] = String(value);
  }
}

/** "MAGIC" | u32 header length (little-endian) | UTF-8 JSON header | body: {header, start of the body}. */
export function readMessage(bytes, magic) {
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== magic) throw new Error(`not a ${magic} message`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  return { header, start: 8 + length };
}

/** Draw grey levels [784] into a 28 x 28 canvas (CSS scales it up). */
export function drawGrey(canvas, grey) {
  drawPicture(canvas, grey, 1, SIDE);
}

/**
 * Draw a picture's levels 0..255, channels first as the models' flattened images are ([channels x side x side]:
 * 1 channel grey, 3 RGB), into ``canvas`` at one canvas pixel per image pixel (CSS scales it up to the size the
 * page gives the canvas); the canvas is made side x side first when it is not.
 */
export function drawPicture(canvas, levels, channels, side) {
  if (canvas.width !== side || canvas.height !== side) {
    canvas.width = side;
    canvas.height = side;
  }
  const context = canvas.getContext("2d");
  const image = context.createImageData(side, side);
  const rgba = image.data;
  const area = side * side;
  const [green, blue] = channels >= 3 ? [area, 2 * area] : [0, 0]; // offsets of the green and blue planes
  for (let p = 0; p < area; p++) {
    const i = 4 * p;
    rgba[i] = levels[p];
    rgba[i + 1] = levels[green + p];
    rgba[i + 2] = levels[blue + p];
    rgba[i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

/** [channels, side] of a picture of ``count`` levels: side x side grey, or 3 x side x side RGB (no count is both). */
export function pictureShape(count) {
  const grey = Math.round(Math.sqrt(count));
  if (grey * grey === count) return [1, grey];
  const rgb = Math.round(Math.sqrt(count / 3));
  return [3, rgb];
}

/** Call ``view.draw()`` at the next animation frame, once however often this is called before it. */
export function requestDraw(view) {
  if (!view.frame) view.frame = requestAnimationFrame(() => { view.frame = 0; view.draw(); });
}

/** Round tick values covering [low, high]: steps of 1, 2 or 5 times a power of ten, about ``count`` of them. */
export function ticks(low, high, count) {
  const raw = (high - low) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const out = [];
  for (let t = Math.ceil(low / step) * step; t <= high; t += step) out.push(Math.round(t / step) * step);
  return out;
}

export function tickLabel(value) {
  return String(Number(value.toPrecision(6)));
}

/**
 * Ticks over [low, high] drawn along ``pixels`` CSS pixels whose labels do not overlap: about one per 70 pixels
 * across (50 up), fewer where the labels need it (each label's width across, or its line height up, plus a
 * gap apart), and at least two where two fit.
 */
export function fittedTicks(context, low, high, pixels, across) {
  const [target, gap] = across ? [70, 10] : [50, 8];
  const fits = (values) => {
    const spacing = (pixels * (values[1] - values[0])) / (high - low);
    const size = across ? Math.max(...values.map((t) => context.measureText(tickLabel(t)).width)) : 12;
    return spacing >= size + gap;
  };
  const wanted = Math.max(2, Math.round(pixels / target));
  for (let count = wanted; count >= 1; count--) {
    const values = ticks(low, high, count);
    if (values.length >= 2 && fits(values)) return values;
  }
  // A short range: its round steps hold two ticks only at a finer step, if their labels fit there.
  for (let count = wanted + 1; count <= Math.ceil(pixels / 10); count++) {
    const values = ticks(low, high, count);
    if (values.length >= 2) return fits(values) ? values : [middle(values, (low + high) / 2)];
  }
  return [middle(ticks(low, high, 1), (low + high) / 2)];
}

function middle(values, centre) {
  return values.reduce((best, t) => (Math.abs(t - centre) < Math.abs(best - centre) ? t : best));
}

/**
 * Mount or update the view of ``data.view`` under ``parentElement`` (kept in ``views`` across reruns), and return
 * Streamlit's cleanup, which destroys the view once its element has left the page.
 */
export function mountView(views, View, parentElement, args, data) {
  let view = views.get(parentElement);
  if (!view || !(view instanceof View)) {
    view?.destroy();
    view = new View(parentElement, args);
    views.set(parentElement, view);
  }
  view.args = args;
  view.update(data);
  return () => {
    if (!parentElement.isConnected) {
      view.destroy();
      views.delete(parentElement);
    }
  };
}
