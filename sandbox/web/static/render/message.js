// One message as Slack's client shows it: who sent it, when, its blocks (or its text),
// whether it was edited, its thread, and whether only you can see it.

import { el, isObject } from "./dom.js";
import { withDefaults } from "./context.js";
import { renderMrkdwn } from "./mrkdwn.js";
import { renderRaw } from "./raw.js";
import { renderBlocks } from "./blocks.js";

/**
 * @param {unknown} message  the message JSON as Slack's Web API returns it
 * @param {import("./context.js").RenderContext} ctx
 * @returns {HTMLElement}
 */
export function renderMessage(message, ctx) {
  const context = withDefaults(ctx);
  const node = el("div", "sk-message");
  if (!isObject(message)) {
    node.append(renderRaw(message, "a message must be an object"));
    return node;
  }
  if (typeof message.ts === "string") node.dataset.ts = message.ts;
  const ephemeral = message.ephemeral === true;
  if (ephemeral) node.classList.add("sk-ephemeral");
  const fromBot = ephemeral || typeof message.bot_id === "string" || typeof message.user !== "string" || message.user === "";
  const name = fromBot ? context.botName : (context.users[message.user] ?? message.user);
  const meta = el(
    "div",
    "sk-message-meta",
    el("span", "sk-author", name),
    fromBot ? el("span", "sk-app-badge", "APP") : null,
    el("time", "sk-time", timeOf(message.ts)),
  );
  const shared = Array.isArray(message.files) && message.files.length > 0;
  const body = el("div", "sk-message-body", meta);
  if (!shared || hasContent(message)) body.append(content(message, context));
  if (shared) body.append(renderFiles(message.files));
  if (context.edited || isObject(message.edited)) body.append(el("span", "sk-edited", "(edited)"));
  if (message.attachments !== undefined) {
    body.append(renderRaw(message.attachments, "attachments are not drawn", "This message's attachments could not be shown as Slack would; raw JSON below"));
  }
  if (Number.isInteger(message.reply_count) && message.reply_count > 0) body.append(threadLink(message, context));
  if (ephemeral) body.append(el("div", "sk-ephemeral-note", "\ud83d\udc41\ufe0f Only visible to you"));
  node.append(avatar(name, fromBot), body);
  return node;
}

/**
 * The blocks when there are any, the text otherwise; a message with neither, or with
 * blocks that are not a list, is shown raw.
 * @param {Record<string, any>} message
 * @param {ReturnType<typeof withDefaults>} ctx
 * @returns {HTMLElement}
 */
function content(message, ctx) {
  const hasBlocks = message.blocks !== undefined && message.blocks !== null;
  if (hasBlocks && !Array.isArray(message.blocks)) return renderRaw(message, "the message's blocks are not a list");
  if (hasBlocks && message.blocks.length > 0) return renderBlocks(message.blocks, ctx);
  if (typeof message.text === "string" && message.text !== "") {
    return el("div", "sk-message-text", renderMrkdwn(message.text, ctx));
  }
  return renderRaw(message, "the message has neither blocks nor text");
}

/**
 * Whether the message has text or blocks of its own (a file share may have neither).
 * @param {Record<string, any>} message
 * @returns {boolean}
 */
function hasContent(message) {
  const blocks = message.blocks;
  return (blocks !== undefined && blocks !== null) || (typeof message.text === "string" && message.text !== "");
}

/**
 * The files shared with a message: images drawn with their title as caption and their
 * alt text, anything else as its name. Only the page's own file URLs (``/files/…``) are
 * loaded, so a message can never make the page fetch from elsewhere.
 * @param {unknown[]} files
 * @returns {HTMLElement}
 */
export function renderFiles(files) {
  const node = el("div", "sk-files");
  for (const file of files) {
    if (!isObject(file)) {
      node.append(renderRaw(file, "a shared file must be an object"));
      continue;
    }
    const title = typeof file.title === "string" && file.title !== "" ? file.title : String(file.name ?? "file");
    const url = typeof file.url_private === "string" && file.url_private.startsWith("/files/") ? file.url_private : null;
    const image = typeof file.mimetype === "string" && file.mimetype.startsWith("image/");
    if (url === null || !image) {
      node.append(el("div", "sk-file sk-file-other", `\ud83d\udcc4 ${title}`));
      continue;
    }
    const img = /** @type {HTMLImageElement} */ (el("img", "sk-file-image"));
    img.src = url;
    img.alt = typeof file.alt_txt === "string" ? file.alt_txt : title;
    img.loading = "lazy";
    node.append(el("figure", "sk-file", el("figcaption", "sk-file-title", title), img));
  }
  return node;
}

/**
 * @param {Record<string, any>} message
 * @param {ReturnType<typeof withDefaults>} ctx
 * @returns {HTMLElement}
 */
function threadLink(message, ctx) {
  const count = message.reply_count;
  const button = /** @type {HTMLButtonElement} */ (el("button", "sk-thread-link", `${count} ${count === 1 ? "reply" : "replies"}`));
  button.type = "button";
  button.addEventListener("click", () => ctx.onOpenThread(String(message.ts)));
  return button;
}

/**
 * A square with the sender's initial, coloured by name, as a stand-in for a picture.
 * @param {string} name
 * @param {boolean} fromBot
 * @returns {HTMLElement}
 */
function avatar(name, fromBot) {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) % 360;
  const node = el("div", `sk-avatar${fromBot ? " sk-avatar-bot" : ""}`, [...name][0]?.toUpperCase() ?? "?");
  if (!fromBot) node.style.backgroundColor = `hsl(${hash}, 45%, 42%)`;
  node.setAttribute("aria-hidden", "true");
  return node;
}

/**
 * A message ts ("1700000000.000100") as the reader's local clock time.
 * @param {unknown} ts
 * @returns {string}
 */
function timeOf(ts) {
  const seconds = Number(ts);
  if (typeof ts !== "string" || !Number.isFinite(seconds)) return "";
  return new Date(seconds * 1000).toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit" });
}
