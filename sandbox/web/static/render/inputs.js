// Input blocks of modals: the label, the element a person fills in, a hint, and a slot for
// the error Slack returns with `response_action: "errors"`. What each control holds is read
// back by views.js as Slack's `view.state.values`.

import { el, isObject, Malformed, needList, needString } from "./dom.js";
import { renderText } from "./mrkdwn.js";
import { renderRaw } from "./raw.js";
import { buildSelect, checkOptions } from "./elements.js";

/** The options behind each choice control, to report the chosen ones as Slack does. */
export const OPTIONS = new WeakMap();

/**
 * @param {Record<string, any>} block
 * @param {string} blockId
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {HTMLElement}
 */
export function renderInputBlock(block, blockId, ctx) {
  if (!isObject(block.label) || block.label.type !== "plain_text") throw new Malformed("an input's label is plain_text");
  if (!isObject(block.element)) throw new Malformed("an input needs an element");
  const optional = block.optional === true;
  const label = el("label", "sk-input-label", renderText(block.label, ctx), optional ? el("span", "sk-optional", " (optional)") : null);
  const control = inputElement(block.element, ctx);
  const error = el("div", "sk-input-error");
  error.hidden = true;
  const hint = block.hint === undefined ? null : el("div", "sk-input-hint", renderText(block.hint, ctx));
  const node = el("div", "sk-input", label, control, error, hint);
  node.dataset.optional = String(optional);
  return node;
}

/**
 * The control for an input's element; an element it cannot draw is shown raw in place.
 * @param {Record<string, any>} element
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {HTMLElement}
 */
function inputElement(element, ctx) {
  try {
    const render = Object.hasOwn(CONTROLS, element.type) ? CONTROLS[element.type] : null;
    if (render === null) throw new Malformed(`the renderer does not draw "${element.type}" inputs`);
    const control = render(element, ctx);
    control.dataset.actionId = needString(element, "action_id");
    control.dataset.inputType = element.type;
    control.classList.add("sk-input-control");
    return control;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return renderRaw(element, reason, "This input could not be shown as Slack would; raw JSON below");
  }
}

/**
 * @param {Record<string, any>} element
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {HTMLElement}
 */
function textInput(element, ctx) {
  const box = /** @type {HTMLInputElement | HTMLTextAreaElement} */ (el(element.multiline ? "textarea" : "input", "sk-text-input"));
  if (box instanceof HTMLInputElement) box.type = "text";
  if (typeof element.initial_value === "string") box.value = element.initial_value;
  if (element.placeholder !== undefined) box.placeholder = renderText(element.placeholder, ctx).textContent ?? "";
  if (Number.isInteger(element.max_length)) box.maxLength = element.max_length;
  if (Number.isInteger(element.min_length)) box.dataset.minLength = String(element.min_length);
  if (element.focus_on_load === true) box.autofocus = true;
  return box;
}

/**
 * @param {Record<string, any>} element
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {HTMLElement}
 */
function select(element, ctx) {
  const { select: box, options } = buildSelect(element, ctx);
  OPTIONS.set(box, options);
  return box;
}

/**
 * Radio buttons or checkboxes: one box per option, the options kept for the state.
 * @param {"radio" | "checkbox"} kind
 * @returns {(element: Record<string, any>, ctx: any) => HTMLElement}
 */
function choices(kind) {
  return (element, ctx) => {
    const options = checkOptions(needList(element, "options"));
    const chosen = kind === "radio" ? [element.initial_option] : Array.isArray(element.initial_options) ? element.initial_options : [];
    const values = new Set(chosen.filter(isObject).map((option) => option.value));
    const name = `sk-${kind}-${Math.random().toString(36).slice(2)}`;
    const group = el("div", `sk-choices sk-${kind}s`);
    options.forEach((option, index) => {
      const box = /** @type {HTMLInputElement} */ (el("input", null));
      box.type = kind;
      box.name = name;
      box.value = String(index);
      box.checked = values.has(option.value);
      const description = option.description === undefined ? null : el("span", "sk-choice-description", renderText(option.description, ctx));
      group.append(el("label", "sk-choice", box, el("span", "sk-choice-text", renderText(option.text, ctx)), description));
    });
    OPTIONS.set(group, options);
    return group;
  };
}

/**
 * @param {Record<string, any>} element
 * @returns {HTMLElement}
 */
function datepicker(element) {
  const box = /** @type {HTMLInputElement} */ (el("input", "sk-datepicker"));
  box.type = "date";
  if (typeof element.initial_date === "string") box.value = element.initial_date;
  return box;
}

/** @type {Record<string, (element: Record<string, any>, ctx: any) => HTMLElement>} */
const CONTROLS = {
  plain_text_input: textInput,
  static_select: select,
  radio_buttons: choices("radio"),
  checkboxes: choices("checkbox"),
  datepicker,
};
