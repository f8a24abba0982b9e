// Slack's emoji short names for the emoji Handrail and most bots use. A name not listed
// here stays as `:name:`, which is what Slack shows for an emoji it does not know.

/** @type {Record<string, string>} */
const EMOJI = {
  "+1": "👍", "-1": "👎", thumbsup: "👍", thumbsdown: "👎", ok_hand: "👌", clap: "👏",
  wave: "👋", pray: "🙏", muscle: "💪", point_right: "👉", point_left: "👈", raised_hands: "🙌",
  raising_hand: "🙋", eyes: "👀", smile: "😄", smiley: "😃", grinning: "😀", slightly_smiling_face: "🙂",
  wink: "😉", joy: "😂", thinking_face: "🤔", confused: "😕", cry: "😢", sob: "😭",
  scream: "😱", sweat_smile: "😅", neutral_face: "😐", heart: "❤️", broken_heart: "💔",
  fire: "🔥", star: "⭐", sparkles: "✨", tada: "🎉", rocket: "🚀", zap: "⚡", boom: "💥",
  white_check_mark: "✅", heavy_check_mark: "✔️", ballot_box_with_check: "☑️", x: "❌",
  heavy_multiplication_x: "✖️", negative_squared_cross_mark: "❎", warning: "⚠️",
  no_entry: "⛔", no_entry_sign: "🚫", exclamation: "❗", question: "❓",
  grey_question: "❔", grey_exclamation: "❕", bangbang: "‼️", information_source: "ℹ️",
  rotating_light: "🚨", bell: "🔔", no_bell: "🔕", mega: "📣", loudspeaker: "📢",
  hourglass: "⌛", hourglass_flowing_sand: "⏳", stopwatch: "⏱️", alarm_clock: "⏰",
  clock1: "🕐", calendar: "📆", date: "📅", zzz: "💤", ghost: "👻", robot_face: "🤖",
  key: "🔑", lock: "🔒", unlock: "🔓", shield: "🛡️", gear: "⚙️", wrench: "🔧", hammer: "🔨",
  hammer_and_wrench: "🛠️", link: "🔗", paperclip: "📎", pushpin: "📌", memo: "📝",
  pencil: "📝", pencil2: "✏️", page_facing_up: "📄", clipboard: "📋", file_folder: "📁",
  inbox_tray: "📥", outbox_tray: "📤", email: "📧", envelope: "✉️", speech_balloon: "💬",
  bulb: "💡", mag: "🔍", chart_with_upwards_trend: "📈", chart_with_downwards_trend: "📉",
  bar_chart: "📊", moneybag: "💰", credit_card: "💳", package: "📦", truck: "🚚",
  repeat: "🔁", arrows_counterclockwise: "🔄", arrow_forward: "▶️", arrow_right: "➡️",
  arrow_left: "⬅️", arrow_up: "⬆️", arrow_down: "⬇️", double_vertical_bar: "⏸️",
  black_square_for_stop: "⏹️", fast_forward: "⏩", red_circle: "🔴", large_blue_circle: "🔵",
  large_green_circle: "🟢", large_yellow_circle: "🟡", white_circle: "⚪", black_circle: "⚫",
  small_red_triangle: "🔺", small_red_triangle_down: "🔻", construction: "🚧", checkered_flag: "🏁",
  triangular_flag_on_post: "🚩", trophy: "🏆", medal: "🏅", 100: "💯", new: "🆕", sos: "🆘",
  skull: "💀", bug: "🐛", see_no_evil: "🙈", shrug: "🤷", man_shrugging: "🤷‍♂️",
  woman_shrugging: "🤷‍♀️", coffee: "☕", beer: "🍺", cake: "🍰", sunny: "☀️", cloud: "☁️",
  umbrella: "☂️", snowflake: "❄️", earth_africa: "🌍", globe_with_meridians: "🌐",
};

/**
 * The emoji for a short name (without colons, skin tone suffix ignored), or null.
 * @param {string} name
 * @returns {string | null}
 */
export function emojiFor(name) {
  const base = name.replace(/::skin-tone-\d$/, "");
  return Object.hasOwn(EMOJI, base) ? EMOJI[base] : null;
}

/**
 * Text with every known `:name:` replaced by its emoji; unknown names stay as written.
 * @param {string} text
 * @returns {string}
 */
export function replaceEmoji(text) {
  if (!text.includes(":")) return text;
  return text.replace(/:([a-z0-9_+-]+(?:::skin-tone-\d)?):/g, (whole, name) => emojiFor(name) ?? whole);
}
