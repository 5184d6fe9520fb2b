import { h } from "./dom.js";
import { imageViewer } from "./image-viewer.js";

let nextWindowNumber = 1;

/**
 * The grid of windows (12 columns): each has a stable id, a title bar (drag it onto another window to move it
 * there; fullscreen, close) and a body that a built-in window type fills. Sizes are in grid cells: Alt+arrows
 * resize the focused window, Alt+Shift+Left/Right move it. The layout (order and sizes by id) is what the
 * workspace saves; a window opened again with a known id gets its saved place and size.
 */
export class WindowManager {
  constructor(container, { onChange } = {}) {
    this.container = container;
    this.windows = new Map();
    this.saved = new Map();
    this.onChange = onChange ?? (() => {});
    this.dragging = null;
  }

  /** Remembers a saved layout (`{windows: [{id, w, h}]}`, in order) for windows opened later. */
  restore(layout) {
    (layout?.windows ?? []).forEach((entry, order) => {
      if (entry?.id) this.saved.set(String(entry.id), { w: entry.w, h: entry.h, order });
    });
  }

  /**
   * Opens a window. `config`: `{type, name, data, id?, w?, h?}` (`w` 1–12 columns, `h` rows of 4 rem); types
   * `imjoy/generic` (JSON view), `imjoy/markdown`, `imjoy/log`, `imjoy/image` (an ndarray, PNG bytes or a data
   * URL). Returns its handle.
   */
  create(config = {}) {
    const type = config.type ?? "imjoy/generic";
    const id = String(config.id ?? config.window_id ?? `window-${nextWindowNumber++}`);
    this.windows.get(id)?.close();
    const name = String(config.name ?? type);
    const saved = this.saved.get(id);
    const size = { w: clamp(saved?.w ?? config.w ?? 6, 2, 12), h: clamp(saved?.h ?? config.h ?? 5, 2, 20) };
    const body = h("div", { class: "window-body" });
    const title = h("header", { class: "window-title", title: "Drag onto another window to move it there" },
      h("span", {}, name),
      h("button", { class: "icon", "aria-label": `Fullscreen ${name}`, onclick: () => element.classList.toggle("fullscreen") }, "▢"),
      h("button", { class: "icon", "aria-label": `Close ${name}`, onclick: () => handle.close() }, "✕"));
    const element = h("section", { class: "window", id, tabindex: "-1", "aria-label": name, dataset: { type } }, title, body);
    const handle = {
      id, name, type, element, size,
      /** Replaces the window's content. */
      setData: (data) => render(type, body, data),
      close: () => {
        element.remove();
        this.windows.delete(id);
        this.onChange();
      },
      /** Sets the size in grid cells. */
      resize: (w, h) => {
        size.w = clamp(w, 2, 12);
        size.h = clamp(h, 2, 20);
        applySize(element, size);
        this.onChange();
      },
      /** The plain description saved in the workspace layout. */
      describe: () => ({ id, name, type, w: size.w, h: size.h }),
    };
    applySize(element, size);
    title.addEventListener("pointerdown", (event) => {
      if (event.target.closest("button")) return;
      // Capture, so the release reaches us even over a plugin's iframe.
      title.setPointerCapture?.(event.pointerId);
      this.dragging = handle;
      element.classList.add("dragging");
      this.container.classList.add("drag-active");
    });
    title.addEventListener("pointerup", (event) => this.drop(event));
    element.addEventListener("keydown", (event) => this.onKey(event, handle));
    render(type, body, config.data ?? config.content ?? null);
    this.windows.set(id, handle);
    this.insert(element, saved?.order);
    element.focus();
    this.onChange();
    return handle;
  }

  /** Puts a new window where the saved layout had it (before the first window saved after it). */
  insert(element, order) {
    if (order !== undefined) {
      const later = [...this.container.children].find((other) => (this.saved.get(other.id)?.order ?? Infinity) > order);
      if (later) return this.container.insertBefore(element, later);
    }
    this.container.append(element);
  }

  drop(event) {
    const moving = this.dragging;
    this.dragging = null;
    if (!moving) return;
    moving.element.classList.remove("dragging");
    this.container.classList.remove("drag-active");
    const target = document.elementFromPoint(event.clientX, event.clientY)?.closest("section.window");
    if (!target || target === moving.element) return;
    this.container.insertBefore(moving.element, target);
    this.onChange();
  }

  onKey(event, handle) {
    if (!event.altKey || !event.key.startsWith("Arrow")) return;
    event.preventDefault();
    const element = handle.element;
    if (event.shiftKey) {
      if (event.key === "ArrowLeft" && element.previousElementSibling) {
        this.container.insertBefore(element, element.previousElementSibling);
      } else if (event.key === "ArrowRight" && element.nextElementSibling) {
        this.container.insertBefore(element.nextElementSibling, element);
      }
      element.focus();
      this.onChange();
      return;
    }
    const step = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] }[event.key];
    handle.resize(handle.size.w + step[0], handle.size.h + step[1]);
  }

  get(id) {
    return this.windows.get(String(id)) ?? [...this.windows.values()].find((w) => w.name === id) ?? null;
  }

  /** The windows in their on-screen order, with their sizes (then saved ones not open now, so they keep theirs). */
  layout() {
    const open = [...this.container.children].map((element) => this.windows.get(element.id)?.describe()).filter(Boolean);
    const closed = [...this.saved.entries()].filter(([id]) => !this.windows.has(id))
      .sort((a, b) => a[1].order - b[1].order).map(([id, entry]) => ({ id, w: entry.w, h: entry.h }));
    return { windows: [...open, ...closed] };
  }
}

const clamp = (value, low, high) => Math.max(low, Math.min(high, Math.round(Number(value) || low)));

function applySize(element, size) {
  element.style.gridColumn = `span ${size.w}`;
  element.style.gridRow = `span ${size.h}`;
  element.dataset.size = `${size.w}x${size.h}`;
}

function render(type, body, data) {
  body.replaceChildren();
  switch (type) {
    case "imjoy/markdown":
      body.append(markdown(String(data?.content ?? data ?? "")));
      break;
    case "imjoy/plugin":
    case "imjoy/plugin-editor":
    case "imjoy/engine":
      break;
    case "imjoy/log":
      body.append(h("pre", { class: "log" }, Array.isArray(data) ? data.join("\n") : String(data ?? "")));
      break;
    case "imjoy/image":
      body.append(imageViewer(data));
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
