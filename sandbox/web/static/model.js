// What the person sees, kept in one place and changed only by the server's state and events.
// Messages are keyed by channel and ts; thread replies and ephemeral messages live beside
// them, and the views ask for "top-level of a channel" or "a thread" in ts order.

const byTs = (a, b) => Number(a.ts) - Number(b.ts);

export class Model {
  constructor(state) {
    this.me = state.me;
    this.people = state.people;
    this.channels = state.channels;
    this.users = state.users;
    this.channelNames = state.channel_names;
    this.botName = state.bot.name;
    this.messages = new Map();
    for (const [channel, list] of Object.entries(state.messages)) {
      this.messages.set(channel, new Map(list.map((m) => [m.ts, m])));
    }
    this.ephemerals = state.ephemerals;
    this.modal = state.modal;
    this.home = state.home;
  }

  knows(channel) {
    return this.messages.has(channel);
  }

  /** Apply one pushed change; returns what it touched, so the page redraws only that. */
  apply(name, data) {
    if (name === "message") {
      if (!this.knows(data.channel)) return { unknownChannel: data.channel };
      this.messages.get(data.channel).set(data.ts, data);
      return { channel: data.channel, ts: data.ts, thread: threadOf(data) };
    }
    if (name === "message_deleted") {
      const found = this.messages.get(data.channel)?.get(data.ts);
      this.messages.get(data.channel)?.delete(data.ts);
      return { channel: data.channel, ts: data.ts, thread: found ? threadOf(found) : null, deleted: true };
    }
    if (name === "ephemeral") {
      this.ephemerals.push(data);
      return { channel: data.channel, ts: data.ts, thread: threadOf(data) };
    }
    if (name === "modal") {
      this.modal = data.modal;
      return { modal: true };
    }
    if (name === "home") {
      this.home = data.home;
      return { home: true };
    }
    return { reset: true };
  }

  /** A message with the reply count Slack shows under a thread's parent. */
  withReplies(message) {
    const replies = this.thread(message.channel, message.ts).length - 1;
    return replies > 0 ? { ...message, reply_count: replies } : message;
  }

  /** Top-level messages and the person's ephemerals of ``channel``, oldest first. */
  topLevel(channel) {
    const stored = [...(this.messages.get(channel)?.values() || [])].filter((m) => !threadOf(m));
    const mine = this.ephemerals.filter((e) => e.channel === channel && !e.thread_ts);
    return [...stored.map((m) => this.withReplies(m)), ...mine].sort(byTs);
  }

  /** The parent and its replies (and the person's ephemerals in it), oldest first. */
  thread(channel, parentTs) {
    const stored = [...(this.messages.get(channel)?.values() || [])].filter(
      (m) => m.ts === parentTs || m.thread_ts === parentTs,
    );
    const mine = this.ephemerals.filter((e) => e.channel === channel && e.thread_ts === parentTs);
    return [...stored, ...mine].sort(byTs);
  }

  find(channel, ts) {
    return this.messages.get(channel)?.get(ts) || this.ephemerals.find((e) => e.channel === channel && e.ts === ts);
  }

  person(id) {
    return this.people.find((p) => p.id === id);
  }
}

/** The parent ts of a thread reply; null for a top-level message (or a thread's parent). */
export function threadOf(message) {
  return message.thread_ts && message.thread_ts !== message.ts ? message.thread_ts : null;
}
