import { h } from "./dom.js";

let nextWindowNumber = 1;

/**
 * The grid of windows: each has a stable id, a title bar (fullscreen, close) and a body that a built-in window
 * type fills. `createWindow` is what plugins call through `api.createWindow`.
 */
export class WindowManager {
  constructor(container, { onChange } = {}) {
    this.container = container;
    this.windows = new Map();
    this.onChange = onChange ?? (() => {});
  }

  /**
   * Opens a window. `config`: `{type, name, data, id?, w?, h?}`; types `imjoy/generic` (JSON view),
   * `imjoy/markdown`, `imjoy/log`, `imjoy/image` (an ndarray, PNG bytes or a data URL). Returns its handle.
   */
  create(config = {}) {
    const type = config.type ?? "imjoy/generic";
    const id = String(config.id ?? config.window_id ?? `window-${nextWindowNumber++}`);
    this.windows.get(id)?.close();
    const name = String(config.name ?? type);
    const body = h("div", { class: "window-body" });
    const element = h("section", { class: "window", id, tabindex: "-1", "aria-label": name, dataset: { type } },
      h("header", { class: "window-title" },
        h("span", {}, name),
        h("button", { class: "icon", "aria-label": `Fullscreen ${name}`, onclick: () => element.classList.toggle("fullscreen") }, "▢"),
        h("button", { class: "icon", "aria-label": `Close ${name}`, onclick: () => handle.close() }, "✕")),
      body);
    if (config.w) element.style.gridColumn = `span ${Math.max(1, Math.min(12, Number(config.w)))}`;
    if (config.h) element.style.gridRow = `span ${Math.max(1, Math.min(12, Number(config.h)))}`;
    const handle = {
      id, name, type, element,
      /** Replaces the window's content. */
      setData: (data) => render(type, body, data),
      close: () => {
        element.remove();
        this.windows.delete(id);
        this.onChange();
      },
      /** The plain description saved in the workspace layout. */
      describe: () => ({ id, name, type, w: config.w ?? null, h: config.h ?? null }),
    };
    render(type, body, config.data ?? config.content ?? null);
    this.windows.set(id, handle);
    this.container.append(element);
    element.focus();
    this.onChange();
    return handle;
  }

  get(id) {
    return this.windows.get(String(id)) ?? [...this.windows.values()].find((w) => w.name === id) ?? null;
  }

  layout() {
    return { windows: [...this.windows.values()].map((w) => w.describe()) };
  }
}

function render(type, body, data) {
  body.replaceChildren();
  switch (type) {
    case "imjoy/markdown":
      body.append(markdown(String(data?.content ?? data ?? "")));
      break;
    case "imjoy/plugin":
      break;
    case "imjoy/log":
      body.append(h("pre", { class: "log" }, Array.isArray(data) ? data.join("\n") : String(data ?? "")));
      break;
    case "imjoy/image":
      body.append(imageView(data));
      break;
    default:
      body.append(h("pre", { class: "json" }, prettyJSON(data)));
  }
}

/** JSON for people: typed arrays and ndarrays are summarised, not dumped. */
export function prettyJSON(value) {
  return JSON.stringify(value, (key, item) => {
    if (ArrayBuffer.isView(item)) return `<${item.constructor.name} × ${item.length}>`;
    if (typeof item === "bigint") return item.toString();
    if (typeof item === "function") return "<function>";
    return item;
  }, 2) ?? "null";
}

/** A small, safe markdown subset: headings, paragraphs, lists, code, emphasis (text is never parsed as HTML). */
export function markdown(text) {
  const root = h("div", { class: "markdown" });
  let list = null;
  let code = null;
  for (const line of text.split("\n")) {
    if (line.startsWith("```")) {
      if (code) { root.append(code); code = null; } else { code = h("pre", {}); }
      continue;
    }
    if (code) { code.append(line + "\n"); continue; }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const item = /^\s*[-*]\s+(.*)$/.exec(line);
    if (item) {
      list ??= root.appendChild(h("ul"));
      list.append(h("li", {}, inline(item[1])));
      continue;
    }
    list = null;
    if (heading) root.append(h(`h${heading[1].length}`, {}, inline(heading[2])));
    else if (line.trim()) root.append(h("p", {}, inline(line)));
  }
  if (code) root.append(code);
  return root;
}

function inline(text) {
  return text.split(/(`[^`]+`|\*\*[^*]+\*\*|\*[^*]+\*)/).filter(Boolean).map((part) => {
    if (part.startsWith("`")) return h("code", {}, part.slice(1, -1));
    if (part.startsWith("**")) return h("strong", {}, part.slice(2, -2));
    if (part.startsWith("*") && part.length > 2) return h("em", {}, part.slice(1, -1));
    return part;
  });
}

/** Shows PNG/JPEG bytes, a data URL, or a 2-D / 3-D (RGB) ndarray `{data, shape, dtype}` on a canvas. */
function imageView(data) {
  if (typeof data === "string" && data.startsWith("data:image/")) return h("img", { src: data, alt: "image" });
  const bytes = data instanceof Uint8Array ? data : data?.buffer instanceof Uint8Array ? data.buffer : null;
  if (bytes && !data?.shape) {
    const url = URL.createObjectURL(new Blob([bytes]));
    return h("img", { src: url, alt: "image" });
  }
  const array = data?._rtype === "ndarray" ? { data: data._rvalue, shape: data._rshape, dtype: data._rdtype } : data;
  if (!array?.shape || !array?.data) return h("p", {}, "No image data");
  const [height, width, channels = 1] = array.shape;
  const values = ArrayBuffer.isView(array.data) ? array.data : new Uint8Array(array.data);
  let low = Infinity;
  let high = -Infinity;
  for (const v of values) { if (v < low) low = v; if (v > high) high = v; }
  const scale = high > low ? 255 / (high - low) : 1;
  const canvas = h("canvas", { width, height, class: "image", "aria-label": `image ${width}×${height}` });
  const context = canvas.getContext("2d");
  const pixels = context.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) {
      const v = values[i * channels + (channels >= 3 ? c : 0)];
      pixels.data[i * 4 + c] = Math.round((v - low) * scale);
    }
    pixels.data[i * 4 + 3] = 255;
  }
  context.putImageData(pixels, 0, 0);
  return canvas;
}
