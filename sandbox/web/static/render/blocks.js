// Block Kit layout blocks to DOM. Each block is drawn on its own: one the renderer does not
// know, or one that breaks Slack's rules, is shown raw with a warning and the rest go on.

import { el, isObject, link, Malformed, needList, needString, safeUrl } from "./dom.js";
import { withDefaults } from "./context.js";
import { renderText } from "./mrkdwn.js";
import { orRaw, renderRaw } from "./raw.js";
import { image, renderElement } from "./elements.js";
import { renderRichText } from "./rich_text.js";
import { renderInputBlock } from "./inputs.js";

/**
 * A message's or a view's blocks.
 * @param {unknown} blocks
 * @param {import("./context.js").RenderContext} ctx
 * @returns {HTMLElement}
 */
export function renderBlocks(blocks, ctx) {
  const context = withDefaults(ctx);
  const container = el("div", "sk-blocks");
  if (!Array.isArray(blocks)) {
    container.append(renderRaw(blocks, "blocks must be a list"));
    return container;
  }
  blocks.forEach((block, index) => container.append(renderBlock(block, index, context)));
  return container;
}

/**
 * One block, or the block raw when it cannot be drawn.
 * @param {unknown} block
 * @param {number} index
 * @param {ReturnType<typeof withDefaults>} ctx
 * @returns {HTMLElement}
 */
export function renderBlock(block, index, ctx) {
  return orRaw(block, () => {
    if (!isObject(block)) throw new Malformed("a block must be an object");
    const render = Object.hasOwn(BLOCKS, block.type) ? BLOCKS[block.type] : null;
    if (render === null) throw new Malformed(`unknown block type "${block.type}"`);
    const blockId = typeof block.block_id === "string" && block.block_id ? block.block_id : `block-${index}`;
    const node = render(block, blockId, ctx);
    node.classList.add("sk-block", `sk-block-${block.type}`);
    node.dataset.blockId = blockId;
    return node;
  });
}

/** @type {Record<string, (block: Record<string, any>, blockId: string, ctx: ReturnType<typeof withDefaults>) => HTMLElement>} */
const BLOCKS = {
  header: (block, _, ctx) => {
    if (!isObject(block.text) || block.text.type !== "plain_text") throw new Malformed("a header's text is plain_text");
    return el("div", "sk-header", renderText(block.text, ctx));
  },
  section: (block, blockId, ctx) => {
    if (block.text === undefined && block.fields === undefined) throw new Malformed("a section needs text or fields");
    const body = el("div", "sk-section-body");
    if (block.text !== undefined) body.append(el("div", "sk-section-text", renderText(block.text, ctx)));
    if (block.fields !== undefined) {
      const fields = needList(block, "fields").map((field) => el("div", "sk-field", renderText(field, ctx)));
      body.append(el("div", "sk-fields", ...fields));
    }
    const accessory = block.accessory === undefined ? null : el("div", "sk-accessory", renderElement(block.accessory, blockId, ctx));
    return el("div", "sk-section", body, accessory);
  },
  context: (block, _, ctx) => {
    const parts = needList(block, "elements").map((element) => {
      if (isObject(element) && element.type === "image") return image(element);
      return el("span", "sk-context-text", renderText(element, ctx));
    });
    return el("div", "sk-context", ...parts);
  },
  divider: () => el("hr", "sk-divider"),
  actions: (block, blockId, ctx) =>
    el("div", "sk-actions", ...needList(block, "elements").map((element) => renderElement(element, blockId, ctx))),
  image: (block, _, ctx) => {
    const title = block.title === undefined ? null : el("div", "sk-image-title", renderText(block.title, ctx));
    const picture = image(block);
    picture.className = "sk-image";
    return el("figure", "sk-image-block", title, picture);
  },
  rich_text: (block, _, ctx) => renderRichText(block, ctx),
  input: (block, blockId, ctx) => renderInputBlock(block, blockId, ctx),
  file: (block) => {
    const id = needString(block, "external_id");
    return el("div", "sk-file", "\ud83d\udcc4 ", el("span", "sk-file-name", `Remote file ${id}`));
  },
  video: (block, _, ctx) => {
    const url = safeUrl(block.title_url) ?? safeUrl(block.video_url);
    if (url === null) throw new Malformed("a video needs an http(s) video_url");
    const title = renderText(block.title, ctx);
    const description = block.description === undefined ? null : el("div", "sk-video-description", renderText(block.description, ctx));
    return el("div", "sk-video", "\u25b6\ufe0f ", link(url, "sk-link", title), description);
  },
};
