// Slack mrkdwn to DOM nodes. Text only ever becomes text nodes (never markup), so whatever a
// model wrote is shown, not run.
//
// The parse is in three passes, as Slack reads a message: code fences first (nothing inside
// is formatted), then lines (quotes, list lines, breaks), then each line's inline spans
// (control sequences `<...>`, `code`, *bold*, _italic_, ~strike~, entities, :emoji:).

import { el, isObject, Malformed } from "./dom.js";
import { replaceEmoji } from "./emoji.js";
import { withDefaults } from "./context.js";
import { controlSequence, decodeEntities } from "./sequences.js";

export { decodeEntities };

const FENCE = "```";
const STYLES = { "*": "strong", _: "em", "~": "s" };
const QUOTE = /^(?:>|&gt;)/;
const QUOTE_REST = /^(?:>>>|&gt;&gt;&gt;)/;
const LIST_LINE = /^\s*(?:[•◦▪‣-]|\d{1,3}[.)])\s/;

/**
 * A text object (`plain_text` or `mrkdwn`); anything else is malformed.
 * @param {unknown} object
 * @param {import("./context.js").RenderContext} ctx
 * @returns {DocumentFragment}
 */
export function renderText(object, ctx) {
  if (!isObject(object) || typeof object.text !== "string") {
    throw new Malformed("a text object needs a string \"text\"");
  }
  if (object.type === "mrkdwn") return renderMrkdwn(object.text, ctx);
  if (object.type !== "plain_text") throw new Malformed(`unknown text object type ${object.type}`);
  return renderPlain(object.text, object.emoji !== false);
}

/**
 * Plain text as Slack shows it: entities decoded, emoji names replaced unless turned off.
 * @param {string} text
 * @param {boolean} [emoji]
 * @returns {DocumentFragment}
 */
export function renderPlain(text, emoji = true) {
  const fragment = document.createDocumentFragment();
  const decoded = decodeEntities(text);
  fragment.append(emoji ? replaceEmoji(decoded) : decoded);
  return fragment;
}

/**
 * Slack mrkdwn as DOM nodes.
 * @param {string} text
 * @param {import("./context.js").RenderContext} [ctx]
 * @returns {DocumentFragment}
 */
export function renderMrkdwn(text, ctx) {
  const context = withDefaults(ctx);
  const fragment = document.createDocumentFragment();
  for (const segment of splitFences(String(text))) {
    if (segment.code) fragment.append(el("pre", "sk-pre", decodeEntities(segment.text)));
    else fragment.append(...renderLines(segment.text, context));
  }
  return fragment;
}

/**
 * The text cut at code fences; a fence with no closing partner is plain text.
 * @param {string} text
 * @returns {{code: boolean, text: string}[]}
 */
function splitFences(text) {
  const segments = [];
  let at = 0;
  for (;;) {
    const open = text.indexOf(FENCE, at);
    const close = open < 0 ? -1 : text.indexOf(FENCE, open + FENCE.length);
    if (close < 0) break;
    if (open > at) segments.push({ code: false, text: text.slice(at, open) });
    const body = text.slice(open + FENCE.length, close).replace(/^\n/, "").replace(/\n$/, "");
    segments.push({ code: true, text: body });
    at = close + FENCE.length;
  }
  if (at < text.length) segments.push({ code: false, text: text.slice(at) });
  return segments.map((s, i) => (s.code ? s : { code: false, text: trimAroundFences(s.text, i, segments) }));
}

/**
 * A fence is a block of its own, so the line break right beside it is not an extra line.
 * @param {string} text
 * @param {number} index
 * @param {{code: boolean}[]} segments
 * @returns {string}
 */
function trimAroundFences(text, index, segments) {
  let trimmed = text;
  if (segments[index - 1]?.code) trimmed = trimmed.replace(/^\n/, "");
  if (segments[index + 1]?.code) trimmed = trimmed.replace(/\n$/, "");
  return trimmed;
}

/**
 * Lines with their breaks, quotes (`>` per line, `>>>` for the rest) and list lines.
 * @param {string} text
 * @param {ReturnType<typeof withDefaults>} ctx
 * @returns {Node[]}
 */
function renderLines(text, ctx) {
  /** @type {Node[]} */
  const nodes = [];
  /** @type {HTMLElement | null} */
  let quote = null;
  let quoteRest = false;
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    let body = line;
    let quoted = quoteRest;
    if (!quoted && QUOTE_REST.test(body)) {
      quoteRest = quoted = true;
      body = body.replace(QUOTE_REST, "").replace(/^ /, "");
    } else if (!quoted && QUOTE.test(body)) {
      quoted = true;
      body = body.replace(QUOTE, "").replace(/^ /, "");
    }
    const rendered = LIST_LINE.test(body)
      ? el("span", "sk-list-line", ...renderInline(body, ctx))
      : renderInline(body, ctx);
    if (quoted) {
      if (quote === null) {
        quote = el("blockquote", "sk-quote");
        nodes.push(quote);
      } else {
        quote.append(el("br", null));
      }
      quote.append(...(Array.isArray(rendered) ? rendered : [rendered]));
      return;
    }
    const afterQuote = quote !== null;
    quote = null;
    if (index > 0 && !afterQuote) nodes.push(el("br", null));
    nodes.push(...(Array.isArray(rendered) ? rendered : [rendered]));
  });
  return nodes;
}

/**
 * @param {string | undefined} char
 * @returns {boolean}
 */
function isWordChar(char) {
  return char !== undefined && /[\p{L}\p{N}]/u.test(char);
}

/**
 * @param {string | undefined} char
 * @returns {boolean}
 */
function isSpace(char) {
  return char === undefined || /\s/.test(char);
}

/**
 * Where each style character could close a span: after a non-space, before a non-word.
 * A closer's validity depends only on its neighbours, so one pass finds them all.
 * @param {string} line
 * @returns {Record<string, number[]>}
 */
function closers(line) {
  /** @type {Record<string, number[]>} */
  const found = { "*": [], _: [], "~": [] };
  for (let i = 1; i < line.length; i++) {
    const char = line[i];
    if (char in found && !isSpace(line[i - 1]) && !isWordChar(line[i + 1])) found[char].push(i);
  }
  return found;
}

/**
 * The first position in a sorted list that is greater than `after`, or -1.
 * @param {number[]} sorted
 * @param {number} after
 * @returns {number}
 */
function firstAfter(sorted, after) {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sorted[middle] > after) high = middle;
    else low = middle + 1;
  }
  return low < sorted.length ? sorted[low] : -1;
}

/**
 * One line's inline spans.
 * @param {string} line
 * @param {ReturnType<typeof withDefaults>} ctx
 * @param {Set<string>} [open]  styles already open around this text (not opened again)
 * @returns {Node[]}
 */
function renderInline(line, ctx, open = new Set()) {
  /** @type {Node[]} */
  const nodes = [];
  const ends = closers(line);
  const cursor = { ">": 0, "`": 0 };
  let plain = "";
  const flush = () => {
    if (plain) nodes.push(document.createTextNode(replaceEmoji(decodeEntities(plain))));
    plain = "";
  };
  /** The next `char` after `from`, remembering a miss so a long line is read once. */
  const next = (/** @type {">" | "`"} */ char, /** @type {number} */ from) => {
    if (cursor[char] !== -1 && cursor[char] <= from) cursor[char] = line.indexOf(char, from);
    return cursor[char];
  };
  let i = 0;
  while (i < line.length) {
    const char = line[i];
    if (char === "<") {
      const close = next(">", i + 1);
      if (close > i + 1) {
        flush();
        nodes.push(controlSequence(line.slice(i + 1, close), ctx));
        i = close + 1;
        continue;
      }
    } else if (char === "`") {
      const close = next("`", i + 1);
      if (close > i + 1) {
        flush();
        nodes.push(el("code", "sk-code", decodeEntities(line.slice(i + 1, close))));
        i = close + 1;
        continue;
      }
    } else if (char in STYLES && !open.has(char) && !isWordChar(line[i - 1]) && !isSpace(line[i + 1])) {
      const close = firstAfter(ends[char], i + 1);
      if (close >= 0) {
        flush();
        const inner = renderInline(line.slice(i + 1, close), ctx, new Set([...open, char]));
        nodes.push(el(STYLES[/** @type {"*"} */ (char)], `sk-${STYLES[/** @type {"*"} */ (char)]}`, ...inner));
        i = close + 1;
        continue;
      }
    }
    plain += char;
    i++;
  }
  flush();
  return nodes;
}
