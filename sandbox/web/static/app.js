// The local Slack page: loads what the chosen person sees, keeps it live over Server-Sent
// Events (reloading everything after each reconnect), and sends what they do to the page
// server, which passes it to Handrail exactly as Slack would.

import { act, fetchState, openStream } from "./api.js";
import { drawMessages } from "./conversation.js";
import { wireComposer } from "./composer.js";
import { drawModal } from "./modal.js";
import { Model } from "./model.js";
import { conversationTitle, drawSidebar, drawSwitcher, HOME } from "./sidebar.js";
import { renderBlocks } from "./render/blocks.js";
import { showToast } from "./toast.js";

const page = {
  user: new URLSearchParams(location.search).get("user") || localStorage.getItem("handrail-sandbox-user"),
  model: null,
  channel: new URLSearchParams(location.search).get("channel"),
  thread: null,
  unread: new Set(),
  stream: null,
};

function context(message) {
  const model = page.model;
  return {
    users: model.users,
    channels: model.channelNames,
    usergroups: {},
    botName: model.botName,
    edited: Boolean(message && message.updates),
    onAction: (action) => click(message, action),
    onOpenThread: (ts) => openThread(ts),
  };
}

/** A click inside a message: sent with the message's channel and ts as Slack sends it. */
async function click(message, action) {
  if (!message) {
    showToast("Only Submit and Cancel are wired in modals here; nothing was sent.");
    return;
  }
  const value = action.selected_option ? action.selected_option.value : undefined;
  try {
    await act("click", {
      user: page.user,
      channel: message.channel,
      ts: message.ts,
      action_id: action.action_id,
      block_id: action.block_id,
      value,
    });
  } catch (error) {
    showToast(error.message);
  }
}

/** A click in the Home tab: sent as Slack sends it from a view (no channel, no message). */
async function clickHome(action) {
  try {
    await act("click", { user: page.user, home: true, action_id: action.action_id, value: action.value });
  } catch (error) {
    showToast(error.message);
  }
}

function drawHome() {
  const list = document.getElementById("messages");
  const home = page.model.home;
  const ctx = { ...context(null), onAction: (action) => clickHome(action) };
  const tab = document.createElement("div");
  tab.className = "home-tab";
  tab.append(home ? renderBlocks(home.blocks, ctx) : document.createTextNode("Opening the Home tab…"));
  list.replaceChildren(tab);
  document.getElementById("thread").hidden = true;
}

function drawConversation() {
  const model = page.model;
  const title = conversationTitle(model, page.channel);
  document.getElementById("conversation-name").textContent = title.name;
  document.getElementById("conversation-purpose").textContent = title.purpose;
  document.getElementById("composer").hidden = page.channel === HOME;
  if (page.channel === HOME) {
    drawHome();
    return;
  }
  drawMessages(document.getElementById("messages"), model.topLevel(page.channel), context);
  const list = document.getElementById("messages");
  list.scrollTop = list.scrollHeight;
  drawThread();
}

function drawThread() {
  const pane = document.getElementById("thread");
  if (!page.thread) {
    pane.hidden = true;
    return;
  }
  pane.hidden = false;
  const messages = page.model.thread(page.channel, page.thread);
  drawMessages(document.getElementById("thread-messages"), messages, context);
}

function openThread(ts) {
  page.thread = ts;
  drawThread();
}

function openConversation(channel) {
  page.channel = channel;
  page.thread = null;
  page.unread.delete(channel);
  drawSidebar(page.model, page.channel, page.unread, openConversation);
  drawConversation();
  const url = new URL(location.href);
  url.searchParams.set("channel", channel);
  history.replaceState(null, "", url);
  if (channel === HOME) act("home", { user: page.user }).catch((error) => showToast(error.message));
}

function drawAll() {
  const model = page.model;
  drawSwitcher(document.getElementById("who"), model.people, page.user, switchUser);
  if (page.channel !== HOME && !model.knows(page.channel)) {
    const review = model.channels.find((c) => c.purposes.some((p) => p.startsWith("review")));
    page.channel = (review || model.channels[0] || {}).id || null;
  }
  drawSidebar(model, page.channel, page.unread, openConversation);
  drawConversation();
  drawModal(model.modal, page.user, context(null));
}

async function reload() {
  try {
    page.model = new Model(await fetchState(page.user));
  } catch (error) {
    showToast(error.message);
    return;
  }
  drawAll();
  setConnection("live");
}

function onEvent(name, data) {
  if (!page.model) return;
  const touched = page.model.apply(name, data);
  if (touched.reset || touched.unknownChannel) {
    reload();
    return;
  }
  if (touched.modal) {
    drawModal(page.model.modal, page.user, context(null));
    return;
  }
  if (touched.home) {
    if (page.channel === HOME) drawHome();
    return;
  }
  if (touched.channel !== page.channel) {
    page.unread.add(touched.channel);
    drawSidebar(page.model, page.channel, page.unread, openConversation);
    return;
  }
  if (touched.thread) {
    drawMessages(document.getElementById("messages"), page.model.topLevel(page.channel), context);
    if (touched.thread === page.thread) drawThread();
    return;
  }
  drawConversation();
}

function setConnection(state) {
  const badge = document.getElementById("connection");
  badge.dataset.state = state;
  badge.textContent = state === "live" ? "live" : "reconnecting…";
}

function connect() {
  if (page.stream) page.stream.close();
  page.stream = openStream(page.user, {
    onReady: reload,
    onEvent,
    onDown: () => setConnection("down"),
  });
}

function switchUser(user) {
  page.user = user;
  page.thread = null;
  page.unread.clear();
  localStorage.setItem("handrail-sandbox-user", user);
  const url = new URL(location.href);
  url.searchParams.set("user", user);
  history.replaceState(null, "", url);
  connect();
}

async function start() {
  wireComposer(document.getElementById("composer"), () => ({ user: page.user, channel: page.channel }));
  wireComposer(document.getElementById("thread-composer"), () => ({
    user: page.user, channel: page.channel, thread_ts: page.thread,
  }));
  document.getElementById("thread-close").addEventListener("click", () => openThread(null));
  const people = await fetch("/api/people").then((r) => r.json()).catch(() => []);
  if (!people.some((person) => person.id === page.user)) {
    page.user = people.length ? people[0].id : null;
  }
  if (!page.user) {
    showToast("The sandbox has nobody to act as; check workflows.yml");
    return;
  }
  switchUser(page.user);
}

start();
