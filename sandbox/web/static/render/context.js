// What the renderer needs to know about the workspace, and how it reports clicks.
// Nothing here renders; the typedefs are the contract between the page and the renderer.

/**
 * A Slack `block_actions` action, exactly as Slack puts it in `payload.actions[0]`.
 * @typedef {Object} SlackAction
 * @property {string} type             element type: "button", "overflow", "static_select", ...
 * @property {string} action_id
 * @property {string} block_id         the block's block_id, or `block-<index>` when it has none
 * @property {string} action_ts        seconds since the epoch, six decimals, as Slack sends it
 * @property {string} [value]          a button's value
 * @property {Object} [text]           a button's text object
 * @property {string} [style]          a button's style ("primary" or "danger")
 * @property {{text: Object, value: string}} [selected_option]  overflow, static_select, radio_buttons
 * @property {string} [selected_date]  datepicker
 */

/**
 * Everything the renderer is told by the page.
 * @typedef {Object} RenderContext
 * @property {Object<string, string>} [users]       user ID -> display name ("U0ALICE" -> "alice")
 * @property {Object<string, string>} [channels]    channel ID -> name, without "#"
 * @property {Object<string, string>} [usergroups]  usergroup ID -> handle, without "@"
 * @property {string} [botName]                     name shown on bot messages ("Handrail")
 * @property {boolean} [edited]                     the message was updated: show "(edited)"
 * @property {(action: SlackAction, element: HTMLElement) => (Promise<unknown>|void)} [onAction]
 *   called for every interaction; while a returned promise is pending the control is disabled
 * @property {(ts: string) => void} [onOpenThread]  the "N replies" link of a message was clicked
 */

/**
 * Fill in what a page left out, so the renderer never checks for missing maps.
 * @param {RenderContext | undefined} ctx
 * @returns {Required<Omit<RenderContext, "edited">> & {edited: boolean}}
 */
export function withDefaults(ctx) {
  const given = ctx ?? {};
  return {
    users: given.users ?? {},
    channels: given.channels ?? {},
    usergroups: given.usergroups ?? {},
    botName: given.botName ?? "Handrail",
    edited: given.edited ?? false,
    onAction: given.onAction ?? (() => undefined),
    onOpenThread: given.onOpenThread ?? (() => undefined),
  };
}
