// Slack's rich_text block: sections, lists, preformatted text and quotes of styled elements.
// Rich text is literal (no mrkdwn, no entities), so every string is a text node as written.

import { el, isObject, link, Malformed, needList, needString, safeUrl } from "./dom.js";
import { emojiFor } from "./emoji.js";
import { formatSlackDate } from "./dates.js";
import { mention } from "./sequences.js";

/**
 * @param {Record<string, any>} block
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {HTMLElement}
 */
export function renderRichText(block, ctx) {
  const node = el("div", "sk-rich-text");
  for (const part of needList(block, "elements")) node.append(richPart(part, ctx));
  return node;
}

/**
 * @param {unknown} part
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {HTMLElement}
 */
function richPart(part, ctx) {
  if (!isObject(part)) throw new Malformed("a rich text part must be an object");
  switch (part.type) {
    case "rich_text_section":
      return el("div", "sk-rt-section", ...inlines(part, ctx));
    case "rich_text_preformatted":
      return el("pre", "sk-pre", ...inlines(part, ctx));
    case "rich_text_quote":
      return el("blockquote", "sk-quote", ...inlines(part, ctx));
    case "rich_text_list":
      return list(part, ctx);
    default:
      throw new Malformed(`unknown rich text part "${part.type}"`);
  }
}

/**
 * A bullet or numbered list; `indent` nests it, `offset` is where numbering starts.
 * @param {Record<string, any>} part
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {HTMLElement}
 */
function list(part, ctx) {
  const ordered = part.style === "ordered";
  if (!ordered && part.style !== "bullet") throw new Malformed('a list\'s style is "bullet" or "ordered"');
  const indent = Number.isInteger(part.indent) ? Math.min(Math.max(part.indent, 0), 8) : 0;
  const node = /** @type {HTMLOListElement} */ (el(ordered ? "ol" : "ul", `sk-rt-list sk-indent-${indent % 3}`));
  node.style.marginLeft = `${indent * 22}px`;
  if (ordered && Number.isInteger(part.offset)) node.start = part.offset + 1;
  if (part.border === 1) node.classList.add("sk-rt-border");
  for (const item of needList(part, "elements")) {
    if (!isObject(item) || item.type !== "rich_text_section") throw new Malformed("list items are rich_text_section");
    node.append(el("li", null, ...inlines(item, ctx)));
  }
  return node;
}

/**
 * @param {Record<string, any>} part
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {Node[]}
 */
function inlines(part, ctx) {
  return needList(part, "elements").map((element) => styled(inline(element, ctx), element.style));
}

/**
 * Wrap a node in the styles its element asks for (bold, italic, strike, code).
 * @param {Node} node
 * @param {unknown} style
 * @returns {Node}
 */
function styled(node, style) {
  if (!isObject(style)) return node;
  let wrapped = node;
  if (style.code) wrapped = el("code", "sk-code", wrapped);
  if (style.strike) wrapped = el("s", "sk-s", wrapped);
  if (style.italic) wrapped = el("em", "sk-em", wrapped);
  if (style.bold) wrapped = el("strong", "sk-strong", wrapped);
  return wrapped;
}

/**
 * @param {unknown} element
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {Node}
 */
function inline(element, ctx) {
  if (!isObject(element)) throw new Malformed("a rich text element must be an object");
  switch (element.type) {
    case "text":
      if (typeof element.text !== "string") throw new Malformed('a text element needs "text"');
      return document.createTextNode(element.text);
    case "link": {
      const href = safeUrl(element.url);
      const label = typeof element.text === "string" && element.text ? element.text : String(element.url);
      return href === null ? document.createTextNode(label) : link(href, "sk-link", label);
    }
    case "user":
      return mention("sk-user", "@", needString(element, "user_id"), null, ctx.users);
    case "channel":
      return mention("sk-channel", "#", needString(element, "channel_id"), null, ctx.channels);
    case "usergroup": {
      const id = needString(element, "usergroup_id");
      return el("span", "sk-mention sk-usergroup", `@${ctx.usergroups[id] ?? id}`);
    }
    case "broadcast":
      return el("span", "sk-mention sk-broadcast", `@${needString(element, "range")}`);
    case "emoji":
      return document.createTextNode(emoji(needString(element, "name"), element.unicode));
    case "date": {
      const format = needString(element, "format");
      const fallback = typeof element.fallback === "string" ? element.fallback : "";
      return el("span", "sk-date", formatSlackDate(String(element.timestamp), format) ?? fallback);
    }
    default:
      throw new Malformed(`unknown rich text element "${element.type}"`);
  }
}

/**
 * @param {string} name
 * @param {unknown} unicode  code points in hex joined by "-", as Slack sends them
 * @returns {string}
 */
function emoji(name, unicode) {
  if (typeof unicode === "string" && /^[0-9a-f]{2,6}(?:-[0-9a-f]{2,6})*$/i.test(unicode)) {
    return String.fromCodePoint(...unicode.split("-").map((hex) => Number.parseInt(hex, 16)));
  }
  return emojiFor(name) ?? `:${name}:`;
}
