import { h, replaceChildren, errorText } from "./dom.js";
import { isTIFF, decodeTIFF } from "../lib/tiff.js";

/** Colour maps: 256-entry RGB lookup tables built from a few stops. */
const STOPS = {
  gray: [[0, 0, 0], [255, 255, 255]],
  viridis: [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]],
  magma: [[0, 0, 4], [81, 18, 124], [183, 55, 121], [252, 137, 97], [252, 253, 191]],
  fire: [[0, 0, 0], [200, 0, 0], [255, 160, 0], [255, 255, 255]],
};

function lookupTable(name) {
  const stops = STOPS[name] ?? STOPS.gray;
  const table = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const position = (i / 255) * (stops.length - 1);
    const low = Math.floor(position);
    const high = Math.min(stops.length - 1, low + 1);
    const t = position - low;
    for (let c = 0; c < 3; c++) table[i * 3 + c] = stops[low][c] + (stops[high][c] - stops[low][c]) * t;
  }
  return table;
}

/** `{data, shape, dtype}` from an NDArray, a wire ndarray (`_rtype`), or `null`. */
function asArray(value) {
  if (!value) return null;
  if (value._rtype === "ndarray") return { data: value._rvalue, shape: value._rshape, dtype: value._rdtype };
  return value.shape && value.data ? value : null;
}

function range(values) {
  let low = Infinity;
  let high = -Infinity;
  for (const v of values) {
    const n = Number(v);
    if (n < low) low = n;
    if (n > high) high = n;
  }
  return low <= high ? [low, high] : [0, 1];
}

/**
 * The `imjoy/image` viewer: an ndarray image (2-D grey, or H×W×3/4 colour) with zoom, pan (drag), contrast
 * (display range), colour map and an optional label mask overlay with adjustable opacity. `data` is the array, or
 * `{image, mask}`; TIFF bytes (e.g. from Python's tifffile) are decoded into an array first; PNG/JPEG bytes and
 * data URLs are shown as they are.
 */
export function imageViewer(data) {
  const image = asArray(data?.image ?? data);
  if (!image) {
    const source = data?.image ?? data;
    if (source instanceof Uint8Array && isTIFF(source)) return tiffViewer(source, data?.image ? data : null);
    if (typeof source === "string" && source.startsWith("data:image/")) return h("img", { src: source, alt: "image" });
    if (source instanceof Uint8Array) return h("img", { src: URL.createObjectURL(new Blob([source])), alt: "image" });
    return h("p", {}, "No image data");
  }
  const mask = asArray(data?.mask);
  const [height, width, channels = 1] = image.shape;
  const values = ArrayBuffer.isView(image.data) ? image.data : new Uint8Array(image.data);
  const [low, high] = range(values);
  // Small images start enlarged (by a power of two) to about 320 px wide; large ones at full size.
  let startZoom = 1;
  while (width * startZoom * 2 <= 320) startZoom *= 2;
  const state = { zoom: startZoom, min: low, max: high, colormap: "gray", opacity: 0.4, showMask: Boolean(mask) };
  const canvas = h("canvas", { width, height, class: "image", "aria-label": `image ${width}×${height}` });
  const context = canvas.getContext("2d");
  const draw = () => {
    const table = lookupTable(state.colormap);
    const pixels = context.createImageData(width, height);
    const scale = state.max > state.min ? 255 / (state.max - state.min) : 1;
    const level = (v) => Math.max(0, Math.min(255, Math.round((Number(v) - state.min) * scale)));
    const maskValues = mask ? (ArrayBuffer.isView(mask.data) ? mask.data : new Uint8Array(mask.data)) : null;
    for (let i = 0; i < width * height; i++) {
      if (channels >= 3) {
        for (let c = 0; c < 3; c++) pixels.data[i * 4 + c] = level(values[i * channels + c]);
      } else {
        const l = level(values[i]) * 3;
        pixels.data[i * 4] = table[l];
        pixels.data[i * 4 + 1] = table[l + 1];
        pixels.data[i * 4 + 2] = table[l + 2];
      }
      pixels.data[i * 4 + 3] = 255;
      if (state.showMask && maskValues && Number(maskValues[i]) > 0) {
        // Labels get distinct hues; the overlay is blended over the image.
        const hue = (Number(maskValues[i]) * 137.5) % 360;
        const [r, g, b] = hueToRGB(hue);
        const a = state.opacity;
        pixels.data[i * 4] = pixels.data[i * 4] * (1 - a) + r * a;
        pixels.data[i * 4 + 1] = pixels.data[i * 4 + 1] * (1 - a) + g * a;
        pixels.data[i * 4 + 2] = pixels.data[i * 4 + 2] * (1 - a) + b * a;
      }
    }
    context.putImageData(pixels, 0, 0);
    canvas.style.width = `${Math.round(width * state.zoom)}px`;
  };
  const number = (label, key, step) => {
    const input = h("input", { type: "number", value: state[key], step, "aria-label": label, class: "narrow" });
    input.addEventListener("input", () => { state[key] = Number(input.value); draw(); });
    return h("label", {}, `${label} `, input);
  };
  const colormap = h("select", { "aria-label": "Colour map" }, Object.keys(STOPS).map((name) => h("option", { value: name }, name)));
  colormap.addEventListener("change", () => { state.colormap = colormap.value; draw(); });
  const zoom = (factor) => () => { state.zoom = Math.max(0.1, Math.min(32, state.zoom * factor)); draw(); };
  const view = h("div", { class: "image-view" }, canvas);
  let drag = null;
  view.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY, left: view.scrollLeft, top: view.scrollTop };
    view.setPointerCapture?.(event.pointerId);
  });
  view.addEventListener("pointermove", (event) => {
    if (!drag) return;
    view.scrollLeft = drag.left - (event.clientX - drag.x);
    view.scrollTop = drag.top - (event.clientY - drag.y);
  });
  view.addEventListener("pointerup", () => { drag = null; });
  const tools = h("div", { class: "row image-tools" },
    h("button", { type: "button", "aria-label": "Zoom in", onclick: zoom(2) }, "+"),
    h("button", { type: "button", "aria-label": "Zoom out", onclick: zoom(0.5) }, "−"),
    number("min", "min", "any"), number("max", "max", "any"), colormap,
    mask ? h("label", {}, h("input", { type: "checkbox", checked: true, "aria-label": "Show mask",
      onchange: (event) => { state.showMask = event.target.checked; draw(); } }), " mask") : null,
    mask ? number("opacity", "opacity", "0.1") : null);
  draw();
  const root = h("div", { class: "image-viewer" }, tools, view);
  root.viewerState = state;
  return root;
}

/** A viewer that decodes TIFF bytes first (the mask may be TIFF bytes too); a file it cannot read says why. */
function tiffViewer(bytes, parts) {
  const holder = h("div", { class: "tiff-image" }, h("p", {}, "Decoding TIFF…"));
  (async () => {
    const image = await decodeTIFF(bytes);
    const mask = parts?.mask instanceof Uint8Array && isTIFF(parts.mask) ? await decodeTIFF(parts.mask) : parts?.mask;
    replaceChildren(holder, imageViewer(mask ? { image, mask } : image));
  })().catch((error) => replaceChildren(holder, h("p", { class: "error-message" }, `Cannot show this TIFF: ${errorText(error)}`)));
  return holder;
}

function hueToRGB(hue) {
  const f = (n) => {
    const k = (n + hue / 60) % 6;
    return 255 * (1 - Math.max(0, Math.min(k, 4 - k, 1)));
  };
  return [f(5), f(3), f(1)];
}
