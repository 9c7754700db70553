// The latent map as a PNG file (canvas.js's MapView): what the map shows now (the zoom, the colours, the classes
// hidden, the selection and the neighbours ringed), drawn again at EXPORT_RATIO device pixels per CSS pixel, so the
// file is sharp whatever the screen, and saved by the browser: no round trip to the server, which does not know the
// camera or the hidden classes until they are reported.
//
// The map gives ``snapshot(ratio)`` (a canvas), ``view`` (the frame last drawn), ``data`` (its model and method) and
// ``root``; the button sits in the map's toolbar.

import { element } from "./base.js";

export const EXPORT_RATIO = 2;

/** 'mnist-z2-...-s0-latent-coordinates-map.png': the model, the projection, then "map". */
export function fileName(data) {
  const slug = (text) => String(text || "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return [data.model, slug(data.method), "map"].filter(Boolean).join("-") + ".png";
}

/** The "PNG" button of ``map``'s toolbar, in ``parent``. */
export function exportButton(map, parent) {
  const button = element("button", "tool", parent);
  button.type = "button";
  button.textContent = "PNG";
  button.title = "Download the map as shown (zoom, hidden classes, selection), at twice the screen's pixels";
  button.setAttribute("aria-label", "Download the map as PNG");
  button.addEventListener("click", () => savePng(map));
  return button;
}

/** Draw the map and hand the file to the browser's downloads, through a link the page clicks. */
export function savePng(map) {
  if (!map.view) return;
  map.snapshot(EXPORT_RATIO).toBlob((blob) => {
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    const link = element("a", "", map.root);
    link.href = url;
    link.download = fileName(map.data);
    link.hidden = true;
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000); // after the browser has read it
  }, "image/png");
}
