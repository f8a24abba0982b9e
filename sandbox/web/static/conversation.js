// Message lists (a channel's top level, a thread): drawn with the renderer's renderMessage,
// keyed by ts so an update replaces one message in place and the rest stay untouched.

import { renderMessage } from "./render/message.js";

/** What makes a drawn message stale: a new version, a new reply, another person. */
function signature(message) {
  return JSON.stringify([message.ts, message.ephemeral || false, message.updates || 0,
    message.reply_count || 0, message.text, message.blocks]);
}

/**
 * Make ``container`` show ``messages`` (in order), re-rendering only what changed.
 * ``context(message)`` gives the renderer's ctx for one message.
 */
export function drawMessages(container, messages, context) {
  const existing = new Map();
  for (const child of container.children) existing.set(child.dataset.key, child);
  const wanted = [];
  for (const message of messages) {
    const key = `${message.ephemeral ? "e" : "m"}:${message.ts}`;
    const sig = signature(message);
    let element = existing.get(key);
    if (!element || element.dataset.sig !== sig) {
      element = wrap(message, context(message), key, sig);
    }
    wanted.push(element);
  }
  wanted.forEach((element, index) => {
    if (container.children[index] !== element) container.insertBefore(element, container.children[index] || null);
  });
  while (container.children.length > wanted.length) container.lastElementChild.remove();
}

function wrap(message, ctx, key, sig) {
  const element = document.createElement("div");
  element.className = message.ephemeral ? "message ephemeral" : "message";
  element.dataset.key = key;
  element.dataset.sig = sig;
  element.dataset.ts = message.ts;
  element.dataset.channel = message.channel;
  if (message.ephemeral) element.dataset.ephemeral = "true";
  try {
    element.append(renderMessage(message, ctx));
  } catch (error) {
    element.append(raw(message, error));
  }
  return element;
}

/** If the renderer itself fails, the message is still shown: raw, with a warning. */
function raw(message, error) {
  const box = document.createElement("div");
  box.className = "sk-raw";
  const note = document.createElement("p");
  note.textContent = `This message could not be shown as Slack would (${error.message}); raw JSON below`;
  const pre = document.createElement("pre");
  pre.textContent = JSON.stringify(message, null, 2);
  box.append(note, pre);
  return box;
}
