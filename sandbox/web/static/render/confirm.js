// Slack's confirmation dialog (a `confirm` object on a button, menu or select).

import { el, isObject, Malformed } from "./dom.js";
import { renderText } from "./mrkdwn.js";

/**
 * Check a confirm object when the element is drawn, so a bad one shows raw at once rather
 * than failing on the click.
 * @param {unknown} confirm
 */
export function checkConfirm(confirm) {
  if (!isObject(confirm) || !isObject(confirm.text)) throw new Malformed("a confirm needs a text object");
  for (const field of ["title", "confirm", "deny"]) {
    if (confirm[field] !== undefined && !isObject(confirm[field])) throw new Malformed(`confirm.${field} must be a text object`);
  }
}

/**
 * Ask the person to confirm; resolves true for the confirm button, false otherwise.
 * @param {unknown} confirm  Slack's confirm object: {title, text, confirm, deny, style?}
 * @param {import("./context.js").RenderContext} ctx
 * @returns {Promise<boolean>}
 */
export function askToConfirm(confirm, ctx) {
  if (!isObject(confirm)) throw new Malformed("a confirm must be an object");
  const title = el("div", "sk-confirm-title", confirm.title ? renderText(confirm.title, ctx) : "Are you sure?");
  const text = el("div", "sk-confirm-text", renderText(confirm.text, ctx));
  const deny = el("button", "sk-button sk-confirm-deny", confirm.deny ? renderText(confirm.deny, ctx) : "Cancel");
  const style = confirm.style === "danger" ? "sk-danger" : "sk-primary";
  const yes = el("button", `sk-button ${style} sk-confirm-yes`, confirm.confirm ? renderText(confirm.confirm, ctx) : "Yes");
  const dialog = el("div", "sk-confirm", title, text, el("div", "sk-confirm-buttons", deny, yes));
  dialog.setAttribute("role", "alertdialog");
  const overlay = el("div", "sk-overlay sk-confirm-overlay", dialog);
  document.body.append(overlay);
  yes.focus();
  return new Promise((resolve) => {
    const answer = (/** @type {boolean} */ value) => {
      overlay.remove();
      resolve(value);
    };
    yes.addEventListener("click", () => answer(true));
    deny.addEventListener("click", () => answer(false));
    overlay.addEventListener("keydown", (event) => {
      if (event.key === "Escape") answer(false);
    });
  });
}
