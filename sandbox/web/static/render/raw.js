// What the renderer cannot show as Slack would is shown as it came, never dropped.

import { el } from "./dom.js";

export const RAW_WARNING = "This block could not be shown as Slack would; raw JSON below";

/**
 * The value as pretty JSON under a visible warning, with the reason in a tooltip.
 * @param {unknown} value
 * @param {string} [reason]  why it could not be shown (kept for whoever debugs it)
 * @param {string} [warning]
 * @returns {HTMLElement}
 */
export function renderRaw(value, reason, warning = RAW_WARNING) {
  const note = el("div", "sk-raw-warning", "\u26a0\ufe0f " + warning);
  if (reason) note.title = reason;
  return el("div", "sk-raw", note, el("pre", "sk-raw-json", prettyJson(value)));
}

/**
 * JSON for people; a value JSON cannot hold (a cycle, a BigInt) is still shown.
 * @param {unknown} value
 * @returns {string}
 */
export function prettyJson(value) {
  try {
    const text = JSON.stringify(value, null, 2);
    return text === undefined ? String(value) : text;
  } catch {
    return String(value);
  }
}

/**
 * Run a renderer; if it throws, show the value raw instead, so one bad part never stops
 * the rest of the message.
 * @param {unknown} value
 * @param {() => HTMLElement} render
 * @returns {HTMLElement}
 */
export function orRaw(value, render) {
  try {
    return render();
  } catch (error) {
    return renderRaw(value, error instanceof Error ? error.message : String(error));
  }
}
