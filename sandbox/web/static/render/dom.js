// Building DOM nodes without ever parsing markup: every string becomes a text node.

/**
 * An element with a class and children; strings become text nodes, null is skipped.
 * @param {string} tag
 * @param {string | null} className
 * @param {...(Node | string | null | undefined)} children
 * @returns {HTMLElement}
 */
export function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/**
 * Whether a value is a plain object (not null, not an array).
 * @param {unknown} value
 * @returns {value is Record<string, any>}
 */
export function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Thrown by a renderer when what it was given is not what Slack's reference describes. */
export class Malformed extends Error {}

/**
 * The field, which must be a non-empty string; anything else is malformed.
 * @param {Record<string, any>} object
 * @param {string} field
 * @returns {string}
 */
export function needString(object, field) {
  const value = object[field];
  if (typeof value !== "string" || value === "") {
    throw new Malformed(`"${field}" must be a non-empty string`);
  }
  return value;
}

/**
 * The field, which must be a list; anything else is malformed.
 * @param {Record<string, any>} object
 * @param {string} field
 * @returns {any[]}
 */
export function needList(object, field) {
  const value = object[field];
  if (!Array.isArray(value)) throw new Malformed(`"${field}" must be a list`);
  return value;
}

/**
 * A URL safe to link to: http, https or mailto only; null for anything else.
 * @param {unknown} value
 * @returns {string | null}
 */
export function safeUrl(value) {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * A link that opens in a new tab and cannot reach back to this page.
 * @param {string} href  already checked with safeUrl
 * @param {string | null} className
 * @param {...(Node | string)} children
 * @returns {HTMLAnchorElement}
 */
export function link(href, className, ...children) {
  const anchor = /** @type {HTMLAnchorElement} */ (el("a", className, ...children));
  anchor.href = href;
  anchor.target = "_blank";
  anchor.rel = "noopener noreferrer";
  return anchor;
}
