// Interactive elements of messages (accessories and actions) and what a click reports.
// Every interaction becomes Slack's `block_actions` action object and goes to ctx.onAction.

import { el, isObject, Malformed, needList, needString, safeUrl } from "./dom.js";
import { renderText } from "./mrkdwn.js";
import { renderRaw } from "./raw.js";
import { askToConfirm, checkConfirm } from "./confirm.js";

/**
 * An element of an actions block or a section's accessory; one Slack does not let the
 * renderer draw (or a malformed one) is shown raw in its place.
 * @param {unknown} element
 * @param {string} blockId
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {HTMLElement}
 */
export function renderElement(element, blockId, ctx) {
  try {
    if (!isObject(element)) throw new Malformed("an element must be an object");
    const render = Object.hasOwn(ELEMENTS, element.type) ? ELEMENTS[element.type] : null;
    if (render === null) throw new Malformed(`the renderer does not draw "${element.type}" elements`);
    if (element.confirm !== undefined) checkConfirm(element.confirm);
    return render(element, blockId, ctx);
  } catch (error) {
    return renderRaw(element, error instanceof Error ? error.message : String(error), ELEMENT_WARNING);
  }
}

const ELEMENT_WARNING = "This element could not be shown as Slack would; raw JSON below";

/** Seconds since the epoch with six decimals, as Slack writes `action_ts`. */
export function actionTs() {
  return (Date.now() / 1000).toFixed(6);
}

/**
 * Hand the action to the page; keep the control disabled while its answer is pending.
 * @param {HTMLElement & {disabled: boolean}} control
 * @param {import("./context.js").SlackAction} action
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {Promise<void>}
 */
export async function dispatch(control, action, ctx) {
  const result = ctx.onAction(action, control);
  if (!result || typeof (/** @type {Promise<unknown>} */ (result)).then !== "function") return;
  control.disabled = true;
  control.classList.add("sk-busy");
  try {
    await result;
  } catch {
    // The page shows its own error; the control only has to come back.
  } finally {
    control.disabled = false;
    control.classList.remove("sk-busy");
  }
}

/**
 * An option as Slack reports it in `selected_option`.
 * @param {Record<string, any>} option
 * @returns {{text: Object, value: string}}
 */
function selectedOption(option) {
  return { text: option.text, value: option.value };
}

/**
 * Options checked: each needs a text object and a string value.
 * @param {unknown[]} options
 * @returns {Record<string, any>[]}
 */
export function checkOptions(options) {
  for (const option of options) {
    if (!isObject(option) || !isObject(option.text) || typeof option.value !== "string") {
      throw new Malformed("each option needs a text object and a string value");
    }
  }
  return /** @type {Record<string, any>[]} */ (options);
}

/**
 * @param {Record<string, any>} element
 * @param {string} blockId
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {HTMLElement}
 */
function button(element, blockId, ctx) {
  needString(element, "action_id");
  const label = renderText(element.text, ctx);
  const style = ["primary", "danger"].includes(element.style) ? element.style : null;
  const href = element.url === undefined ? null : safeUrl(element.url);
  if (element.url !== undefined && href === null) throw new Malformed("a button's url must be http(s)");
  const control = /** @type {HTMLButtonElement} */ (el("button", `sk-button${style ? ` sk-${style}` : ""}`, label));
  control.type = "button";
  control.dataset.actionId = element.action_id;
  control.addEventListener("click", async () => {
    if (element.confirm !== undefined && !(await askToConfirm(element.confirm, ctx))) return;
    if (href !== null) window.open(href, "_blank", "noopener,noreferrer");
    /** @type {import("./context.js").SlackAction} */
    const action = { type: "button", action_id: element.action_id, block_id: blockId, action_ts: actionTs(), text: element.text };
    if (typeof element.value === "string") action.value = element.value;
    if (style) action.style = style;
    await dispatch(control, action, ctx);
  });
  return control;
}

/**
 * The "more" menu: a small button that opens a list of options.
 * @param {Record<string, any>} element
 * @param {string} blockId
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {HTMLElement}
 */
function overflow(element, blockId, ctx) {
  needString(element, "action_id");
  const options = checkOptions(needList(element, "options"));
  const toggle = /** @type {HTMLButtonElement} */ (el("button", "sk-button sk-overflow-toggle", "\u22ee"));
  toggle.type = "button";
  toggle.title = "More actions";
  toggle.dataset.actionId = element.action_id;
  const menu = el("div", "sk-menu");
  menu.hidden = true;
  for (const option of options) {
    const href = safeUrl(option.url);
    const item = /** @type {HTMLButtonElement} */ (el("button", "sk-menu-item", renderText(option.text, ctx)));
    item.type = "button";
    item.dataset.value = option.value;
    item.addEventListener("click", async () => {
      menu.hidden = true;
      if (element.confirm !== undefined && !(await askToConfirm(element.confirm, ctx))) return;
      if (href !== null) window.open(href, "_blank", "noopener,noreferrer");
      const action = { type: "overflow", action_id: element.action_id, block_id: blockId, action_ts: actionTs(), selected_option: selectedOption(option) };
      await dispatch(toggle, action, ctx);
    });
    menu.append(item);
  }
  toggle.addEventListener("click", () => {
    menu.hidden = !menu.hidden;
    if (!menu.hidden) closeOnClickElsewhere(menu, toggle);
  });
  return el("span", "sk-overflow", toggle, menu);
}

/**
 * Close an open menu at the next click anywhere but on the menu or its toggle.
 * @param {HTMLElement} menu
 * @param {HTMLElement} toggle
 */
function closeOnClickElsewhere(menu, toggle) {
  const close = (/** @type {MouseEvent} */ event) => {
    const target = /** @type {Node} */ (event.target);
    if (menu.contains(target) || toggle.contains(target)) return;
    menu.hidden = true;
    document.removeEventListener("click", close, true);
  };
  document.addEventListener("click", close, true);
}

/**
 * A single-choice menu (a native select, so it works with the keyboard as Slack's does).
 * @param {Record<string, any>} element
 * @param {string} blockId
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {HTMLElement}
 */
function staticSelect(element, blockId, ctx) {
  needString(element, "action_id");
  const { select, options } = buildSelect(element, ctx);
  select.dataset.actionId = element.action_id;
  select.addEventListener("change", async () => {
    const option = options[Number(select.value)];
    if (element.confirm !== undefined && !(await askToConfirm(element.confirm, ctx))) return;
    const action = { type: "static_select", action_id: element.action_id, block_id: blockId, action_ts: actionTs(), selected_option: selectedOption(option) };
    await dispatch(select, action, ctx);
  });
  return select;
}

/**
 * A `<select>` for a static_select's options or option groups; option values are indexes
 * into the returned list, so any Slack value (even an empty one) round-trips.
 * @param {Record<string, any>} element
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {{select: HTMLSelectElement, options: Record<string, any>[]}}
 */
export function buildSelect(element, ctx) {
  const select = /** @type {HTMLSelectElement} */ (el("select", "sk-select"));
  /** @type {Record<string, any>[]} */
  const options = [];
  const placeholder = /** @type {HTMLOptionElement} */ (el("option", null, element.placeholder ? renderText(element.placeholder, ctx) : "Select an item"));
  placeholder.value = "";
  placeholder.disabled = true;
  placeholder.selected = true;
  select.append(placeholder);
  const add = (/** @type {HTMLElement} */ parent, /** @type {Record<string, any>} */ option) => {
    const node = /** @type {HTMLOptionElement} */ (el("option", null, renderText(option.text, ctx)));
    node.value = String(options.length);
    node.dataset.value = option.value;
    if (isObject(element.initial_option) && element.initial_option.value === option.value) node.selected = true;
    options.push(option);
    parent.append(node);
  };
  if (Array.isArray(element.option_groups)) {
    for (const group of element.option_groups) {
      if (!isObject(group)) throw new Malformed("an option group must be an object");
      const node = /** @type {HTMLOptGroupElement} */ (el("optgroup", null));
      node.label = renderText(group.label, ctx).textContent ?? "";
      for (const option of checkOptions(needList(group, "options"))) add(node, option);
      select.append(node);
    }
  } else {
    for (const option of checkOptions(needList(element, "options"))) add(select, option);
  }
  return { select, options };
}

/**
 * @param {Record<string, any>} element
 * @param {string} blockId
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {HTMLElement}
 */
function datepicker(element, blockId, ctx) {
  needString(element, "action_id");
  const input = /** @type {HTMLInputElement} */ (el("input", "sk-datepicker"));
  input.type = "date";
  if (typeof element.initial_date === "string") input.value = element.initial_date;
  input.dataset.actionId = element.action_id;
  input.addEventListener("change", async () => {
    const action = { type: "datepicker", action_id: element.action_id, block_id: blockId, action_ts: actionTs(), selected_date: input.value };
    await dispatch(input, action, ctx);
  });
  return input;
}

/**
 * An image element (as in a section's accessory or a context block).
 * @param {Record<string, any>} element
 * @returns {HTMLElement}
 */
export function image(element) {
  const src = safeUrl(element.image_url);
  if (src === null) throw new Malformed("an image needs an http(s) image_url");
  const img = /** @type {HTMLImageElement} */ (el("img", "sk-image-element"));
  img.src = src;
  img.alt = typeof element.alt_text === "string" ? element.alt_text : "";
  img.referrerPolicy = "no-referrer";
  return img;
}

/** @type {Record<string, (element: Record<string, any>, blockId: string, ctx: any) => HTMLElement>} */
const ELEMENTS = {
  button,
  overflow,
  static_select: staticSelect,
  datepicker,
  image: (element) => image(element),
};
