// Modals: drawing a view, reading what a person entered as Slack's `view.state.values`,
// checking it as Slack's client does before it submits, and showing the errors Slack
// returns for named blocks.

import { el, isObject, Malformed, needList } from "./dom.js";
import { withDefaults } from "./context.js";
import { renderText } from "./mrkdwn.js";
import { renderRaw } from "./raw.js";
import { renderBlocks } from "./blocks.js";
import { OPTIONS } from "./inputs.js";

/**
 * A modal: title bar, blocks, and Close / Submit buttons (the page wires those two).
 * @param {unknown} view
 * @param {import("./context.js").RenderContext} ctx
 * @returns {HTMLElement}
 */
export function renderView(view, ctx) {
  const context = withDefaults(ctx);
  const modal = el("div", "sk-modal");
  modal.setAttribute("role", "dialog");
  try {
    if (!isObject(view)) throw new Malformed("a view must be an object");
    if (!isObject(view.title) || view.title.type !== "plain_text") throw new Malformed("a view's title is plain_text");
    needList(view, "blocks");
    const close = el("button", "sk-button sk-modal-close", view.close ? renderText(view.close, context) : "Cancel");
    const submit = view.submit ? el("button", "sk-button sk-primary sk-modal-submit", renderText(view.submit, context)) : null;
    const title = el("div", "sk-modal-title", renderText(view.title, context));
    const dismiss = el("button", "sk-modal-x", "\u00d7");
    dismiss.title = "Close";
    modal.append(
      el("div", "sk-modal-head", title, dismiss),
      el("div", "sk-view-errors"),
      el("div", "sk-modal-body", renderBlocks(view.blocks, context)),
      el("div", "sk-modal-foot", close, submit),
    );
    if (typeof view.callback_id === "string") modal.dataset.callbackId = view.callback_id;
  } catch (error) {
    modal.append(el("div", "sk-modal-body", renderRaw(view, error instanceof Error ? error.message : String(error))));
    modal.append(el("div", "sk-modal-foot", el("button", "sk-button sk-modal-close", "Close")));
  }
  return modal;
}

/**
 * What a person entered, as Slack's `view.state.values`: `{block_id: {action_id: state}}`.
 * @param {HTMLElement} viewElement
 * @returns {Record<string, Record<string, Record<string, unknown>>>}
 */
export function collectViewState(viewElement) {
  /** @type {Record<string, Record<string, Record<string, unknown>>>} */
  const values = {};
  for (const control of viewElement.querySelectorAll(".sk-block-input [data-input-type]")) {
    const node = /** @type {HTMLElement} */ (control);
    const block = /** @type {HTMLElement} */ (node.closest(".sk-block-input"));
    const blockId = block.dataset.blockId ?? "";
    values[blockId] ??= {};
    values[blockId][node.dataset.actionId ?? ""] = controlState(node);
  }
  return values;
}

/**
 * @param {HTMLElement} node
 * @returns {Record<string, unknown>}
 */
function controlState(node) {
  const type = node.dataset.inputType ?? "";
  const options = OPTIONS.get(node) ?? [];
  const option = (/** @type {string} */ index) => {
    const chosen = options[Number(index)];
    return chosen === undefined ? null : { text: chosen.text, value: chosen.value };
  };
  if (type === "plain_text_input" || type === "datepicker") {
    const value = /** @type {HTMLInputElement} */ (node).value;
    return type === "datepicker" ? { type, selected_date: value || null } : { type, value: value === "" ? null : value };
  }
  if (type === "static_select") {
    const value = /** @type {HTMLSelectElement} */ (node).value;
    return { type, selected_option: value === "" ? null : option(value) };
  }
  const checked = [...node.querySelectorAll("input:checked")].map((box) => option(/** @type {HTMLInputElement} */ (box).value));
  if (type === "radio_buttons") return { type, selected_option: checked[0] ?? null };
  return { type, selected_options: checked };
}

/**
 * What Slack's client refuses before submitting: a required input left empty, or text
 * shorter than its min_length. The same `{block_id: message}` map as Slack's errors.
 * @param {HTMLElement} viewElement
 * @returns {Record<string, string>}
 */
export function checkViewInputs(viewElement) {
  /** @type {Record<string, string>} */
  const errors = {};
  for (const block of viewElement.querySelectorAll(".sk-block-input")) {
    const node = /** @type {HTMLElement} */ (block);
    const control = /** @type {HTMLElement | null} */ (node.querySelector("[data-input-type]"));
    if (control === null) continue;
    const state = controlState(control);
    const empty = Object.entries(state).every(([key, value]) => key === "type" || value === null || (Array.isArray(value) && value.length === 0));
    const minimum = Number(control.dataset.minLength ?? 0);
    if (empty && node.dataset.optional !== "true") {
      errors[node.dataset.blockId ?? ""] = "Please fill out this field.";
    } else if (typeof state.value === "string" && state.value.length < minimum) {
      errors[node.dataset.blockId ?? ""] = `Please use at least ${minimum} characters.`;
    }
  }
  return errors;
}

/**
 * Show Slack's `response_action: "errors"` under the named inputs, clearing earlier ones.
 * An error for a block the view does not have is shown at the top, never dropped.
 * @param {HTMLElement} viewElement
 * @param {Record<string, string>} errors
 */
export function showViewErrors(viewElement, errors) {
  for (const slot of viewElement.querySelectorAll(".sk-input-error")) {
    slot.textContent = "";
    /** @type {HTMLElement} */ (slot).hidden = true;
    slot.closest(".sk-input")?.classList.remove("sk-has-error");
  }
  const unplaced = viewElement.querySelector(".sk-view-errors");
  if (unplaced) unplaced.replaceChildren();
  for (const [blockId, message] of Object.entries(isObject(errors) ? errors : {})) {
    const block = viewElement.querySelector(`.sk-block-input[data-block-id="${CSS.escape(blockId)}"]`);
    const slot = /** @type {HTMLElement | null} */ (block?.querySelector(".sk-input-error") ?? null);
    if (slot === null) {
      unplaced?.append(el("div", "sk-view-error", `${blockId}: ${String(message)}`));
      continue;
    }
    slot.textContent = String(message);
    slot.hidden = false;
    slot.closest(".sk-input")?.classList.add("sk-has-error");
  }
}
