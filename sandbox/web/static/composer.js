// The message box: a line starting with "/" is a slash command, anything else a message.
// Enter sends, Shift+Enter starts a new line; what was typed stays if it was refused.

import { act } from "./api.js";
import { showToast } from "./toast.js";

/** Wire ``form``; ``target()`` says {user, channel, thread_ts?} at the moment of sending. */
export function wireComposer(form, target) {
  const box = form.querySelector("textarea");
  const send = async () => {
    const text = box.value;
    if (!text.trim()) return;
    const where = target();
    const isCommand = text.startsWith("/");
    const body = isCommand ? { ...where, text: text.trim() } : { ...where, text };
    form.querySelector("button").disabled = true;
    try {
      await act(isCommand ? "command" : "post", body);
      box.value = "";
    } catch (error) {
      showToast(error.message);
    } finally {
      form.querySelector("button").disabled = false;
    }
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); send(); });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      send();
    }
  });
}
