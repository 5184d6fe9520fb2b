import { h } from "./dom.js";

/**
 * Renders an op's `ui` form (segments from the engine: `{text}` or `{id, type, options, default}`) and returns the
 * elements plus a function reading the values as `ctx.config`. Widgets other than number, string, choose, color
 * and instructions/comment are shown as their default value.
 */
export function renderForm(segments) {
  const readers = [];
  const elements = (segments ?? []).map((segment, index) => {
    if (segment.text !== undefined) return h("span", { class: "form-text" }, segment.text);
    const options = segment.options ?? {};
    const id = segment.id ?? `field-${index}`;
    const label = options.name ?? options.placeholder ?? id;
    let input;
    switch (segment.type) {
      case "number":
        input = h("input", { type: "number", value: segment.default ?? "", min: options.min, max: options.max,
          step: options.step ?? "any", "aria-label": String(label) });
        readers.push(() => [id, input.value === "" ? null : Number(input.value)]);
        break;
      case "choose": {
        const choices = options.options ?? [];
        input = h("select", { "aria-label": String(label) },
          choices.map((choice) => h("option", { value: String(choice), selected: choice === segment.default }, String(choice))));
        readers.push(() => [id, input.value]);
        break;
      }
      case "color":
        input = h("input", { type: "color", value: segment.default ?? "#000000", "aria-label": String(label) });
        readers.push(() => [id, input.value]);
        break;
      case "instructions/comment":
        return h("em", {}, String(options.placeholder ?? ""));
      case "string":
        input = h("input", { type: "text", value: segment.default ?? "", "aria-label": String(label) });
        readers.push(() => [id, input.value]);
        break;
      default:
        readers.push(() => [id, segment.default ?? null]);
        return h("code", {}, String(segment.default ?? segment.type));
    }
    return input;
  });
  return {
    elements: h("p", { class: "op-form" }, elements),
    hasFields: readers.length > 0,
    values: () => Object.fromEntries(readers.map((read) => read()).filter(([id]) => id !== undefined)),
  };
}
