// The modal overlay: the renderer draws the view; submit and close go to the page server,
// and Handrail's answer (field errors, an update, a close) is applied here or pushed back.

import { renderView, checkViewInputs, collectViewState, showViewErrors } from "./render/views.js";
import { act } from "./api.js";
import { showToast } from "./toast.js";

const layer = () => document.getElementById("modal-layer");
let shown = null; // {id, hash, element}

/** Show ``modal`` ({id, view}) for ``user``, or hide the overlay when it is null. */
export function drawModal(modal, user, context) {
  const box = layer();
  if (!modal) {
    box.replaceChildren();
    box.hidden = true;
    shown = null;
    return;
  }
  if (shown && shown.id === modal.id && shown.hash === modal.view.hash) return;
  const element = renderView(modal.view, context);
  element.setAttribute("role", "dialog");
  element.setAttribute("aria-modal", "true");
  element.dataset.viewId = modal.id;
  box.replaceChildren(element);
  box.hidden = false;
  shown = { id: modal.id, hash: modal.view.hash, element };
  wire(element, modal.id, user);
  const first = element.querySelector("textarea, input, select");
  if (first) first.focus();
}

function wire(element, viewId, user) {
  const submit = element.querySelector(".sk-modal-submit");
  const close = element.querySelector(".sk-modal-close");
  if (submit) {
    submit.addEventListener("click", async (event) => {
      event.preventDefault();
      if (submit.disabled) return;
      // As Slack's client does: an empty required field never leaves the browser.
      const missing = checkViewInputs(element);
      showViewErrors(element, missing);
      if (Object.keys(missing).length) return;
      submit.disabled = true;
      try {
        const answer = await act("submit", { user, view_id: viewId, values: collectViewState(element) });
        if (answer.response_action === "errors") showViewErrors(element, answer.errors || {});
      } catch (error) {
        showToast(error.message);
      } finally {
        submit.disabled = false;
      }
    });
  }
  const dismiss = async () => {
    try {
      await act("close", { user, view_id: viewId });
    } catch (error) {
      showToast(error.message);
    }
  };
  if (close) close.addEventListener("click", (event) => { event.preventDefault(); dismiss(); });
  element.addEventListener("keydown", (event) => { if (event.key === "Escape") dismiss(); });
}
