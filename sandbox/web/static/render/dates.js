// Slack's `<!date^EPOCH^FORMAT^LINK|FALLBACK>`: a time shown in the reader's own time zone.
// The {tokens} are the ones Slack documents; any other token means Slack would show the
// fallback text, so we do too.

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * @param {number} day
 * @returns {string}
 */
function ordinal(day) {
  const tens = day % 100;
  if (tens >= 11 && tens <= 13) return `${day}th`;
  return `${day}${{ 1: "st", 2: "nd", 3: "rd" }[day % 10] ?? "th"}`;
}

/**
 * @param {Date} date
 * @param {"long" | "short"} month
 * @param {boolean} weekday
 * @returns {string}
 */
function calendarDate(date, month, weekday) {
  const monthName = date.toLocaleString("en-US", { month });
  const day = month === "long" ? ordinal(date.getDate()) : String(date.getDate());
  const start = weekday ? `${date.toLocaleString("en-US", { weekday: "long" })}, ` : "";
  return `${start}${monthName} ${day}, ${date.getFullYear()}`;
}

/**
 * "Today", "Yesterday" or "Tomorrow" when the date is one of those days, else null.
 * @param {Date} date
 * @param {Date} now
 * @returns {string | null}
 */
function relativeDay(date, now) {
  const startOf = (/** @type {Date} */ d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((startOf(date) - startOf(now)) / DAY_MS);
  return { 0: "Today", [-1]: "Yesterday", 1: "Tomorrow" }[days] ?? null;
}

/**
 * "3 minutes ago" / "in 2 hours", as Slack's {ago}.
 * @param {Date} date
 * @param {Date} now
 * @returns {string}
 */
function ago(date, now) {
  const seconds = Math.round((now.getTime() - date.getTime()) / 1000);
  const steps = /** @type {const} */ ([["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]]);
  for (const [unit, size] of steps) {
    const count = Math.trunc(Math.abs(seconds) / size);
    if (count >= 1) {
      const words = `${count} ${unit}${count === 1 ? "" : "s"}`;
      return seconds >= 0 ? `${words} ago` : `in ${words}`;
    }
  }
  return "just now";
}

/** @type {Record<string, (date: Date, now: Date) => string>} */
const TOKENS = {
  date_num: (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`,
  date: (d) => calendarDate(d, "long", false),
  date_short: (d) => calendarDate(d, "short", false),
  date_long: (d) => calendarDate(d, "long", true),
  date_pretty: (d, now) => relativeDay(d, now) ?? calendarDate(d, "long", false),
  date_short_pretty: (d, now) => relativeDay(d, now) ?? calendarDate(d, "short", false),
  date_long_pretty: (d, now) => relativeDay(d, now) ?? calendarDate(d, "long", true),
  time: (d) => d.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit" }),
  time_secs: (d) => d.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit", second: "2-digit" }),
  ago: (d, now) => ago(d, now),
};

/**
 * The text Slack shows for a date token, or null when the fallback must be shown instead
 * (a bad epoch or an unknown {token}).
 * @param {string} epoch   seconds since the epoch, as written in the message
 * @param {string} format  e.g. "{date_short_pretty} at {time}"
 * @param {Date} [now]
 * @returns {string | null}
 */
export function formatSlackDate(epoch, format, now = new Date()) {
  if (!/^-?\d+$/.test(epoch)) return null;
  const date = new Date(Number(epoch) * 1000);
  if (Number.isNaN(date.getTime())) return null;
  let known = true;
  const text = format.replace(/\{([a-z_]+)\}/g, (_, token) => {
    const render = Object.hasOwn(TOKENS, token) ? TOKENS[token] : null;
    if (render === null) known = false;
    return render === null ? "" : render(date, now);
  });
  return known ? text : null;
}
