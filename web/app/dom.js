/**
 * Creates an element: `h("button", {class: "x", onclick: f}, "text", child)`.
 * Attributes starting with `on` become listeners; `null`/`false` children are skipped.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Removes every child of `element` and appends `children`. */
export function replaceChildren(element, ...children) {
  element.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
}

/** A short, readable form of an error thrown by a remote call (without the `RemoteError:` prefix). */
export function errorText(error) {
  const text = String(error?.message ?? error);
  return text.replace(/^(RemoteError|RemoteException):\s*/, "").trim();
}
