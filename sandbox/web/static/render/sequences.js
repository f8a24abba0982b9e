// Slack's control sequences (`<@U…>`, `<#C…>`, `<!here>`, `<!date^…>`, `<url|label>`) and
// the mentions they stand for; rich text's user, channel and broadcast elements share them.

import { el, link, safeUrl } from "./dom.js";
import { formatSlackDate } from "./dates.js";
import { replaceEmoji } from "./emoji.js";

const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">" };

/**
 * Slack's three entities decoded for display; nothing else is an entity to Slack.
 * @param {string} text
 * @returns {string}
 */
export function decodeEntities(text) {
  return text.includes("&") ? text.replace(/&(?:amp|lt|gt);/g, (entity) => ENTITIES[entity]) : text;
}

/**
 * A `<...>` sequence: a mention, a broadcast, a date or a link; anything else as written.
 * @param {string} body  what was between the angle brackets
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {Node}
 */
export function controlSequence(body, ctx) {
  const bar = body.indexOf("|");
  const target = bar < 0 ? body : body.slice(0, bar);
  const label = bar < 0 ? null : decodeEntities(body.slice(bar + 1));
  if (target.startsWith("@")) return mention("sk-user", "@", target.slice(1), label, ctx.users);
  if (target.startsWith("#")) return mention("sk-channel", "#", target.slice(1), label, ctx.channels);
  if (target.startsWith("!")) return special(target.slice(1), label, body, ctx);
  const href = safeUrl(decodeEntities(target));
  if (href === null) return document.createTextNode(decodeEntities(`<${body}>`));
  return link(href, "sk-link", replaceEmoji(label ?? decodeEntities(target)));
}

/**
 * A user or channel mention: the name the page knows, else the label, else the ID.
 * @param {string} className
 * @param {string} sigil
 * @param {string} id
 * @param {string | null} label
 * @param {Record<string, string>} names
 * @returns {HTMLElement}
 */
export function mention(className, sigil, id, label, names) {
  const known = Object.hasOwn(names, id) ? names[id] : null;
  const shown = known ?? label?.replace(/^[@#]/, "") ?? id;
  const node = el("span", `sk-mention ${className}${known === null ? " sk-unknown" : ""}`, sigil + shown);
  node.dataset.id = id;
  if (known === null && label === null) node.title = `${id} is not known to this workspace`;
  return node;
}

/**
 * `<!here>`, `<!channel>`, `<!everyone>`, `<!subteam^S…>` and `<!date^…>`.
 * @param {string} command  the sequence after "!" and before "|"
 * @param {string | null} label
 * @param {string} body
 * @param {ReturnType<typeof import("./context.js").withDefaults>} ctx
 * @returns {Node}
 */
function special(command, label, body, ctx) {
  const [name, ...args] = command.split("^");
  if (["here", "channel", "everyone"].includes(name) && args.length === 0) {
    return el("span", "sk-mention sk-broadcast", `@${name}`);
  }
  if (name === "subteam" && args.length === 1) {
    const handle = ctx.usergroups[args[0]] ?? label?.replace(/^@/, "") ?? args[0];
    return el("span", "sk-mention sk-usergroup", `@${handle}`);
  }
  if (name === "date" && args.length >= 2) {
    const shown = formatSlackDate(args[0], decodeEntities(args[1])) ?? label ?? decodeEntities(`<${body}>`);
    const href = args.length >= 3 ? safeUrl(decodeEntities(args[2])) : null;
    const node = href ? link(href, "sk-date", shown) : el("span", "sk-date", shown);
    node.title = label ?? "";
    return node;
  }
  return document.createTextNode(label ?? decodeEntities(`<${body}>`));
}
