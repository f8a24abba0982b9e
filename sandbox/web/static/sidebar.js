// The sidebar (channels and DMs) and the user switcher, labelled with each person's roles.

/** Fill the "Acting as" select; ``onSwitch(userId)`` runs when the person picks another. */
export function drawSwitcher(select, people, me, onSwitch) {
  select.replaceChildren(
    ...people.map((person) => {
      const option = document.createElement("option");
      option.value = person.id;
      const roles = person.roles.length ? person.roles.join(", ") : "no role";
      option.textContent = `${person.real_name} (${roles})`;
      option.selected = person.id === me;
      return option;
    }),
  );
  select.onchange = () => onSwitch(select.value);
}

/** The channel and DM lists; ``unread`` is a Set of channel ids with news. */
export function drawSidebar(model, current, unread, onOpen) {
  const item = (channel, label) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "conversation-link";
    button.dataset.channel = channel.id;
    button.textContent = label;
    if (channel.id === current) button.setAttribute("aria-current", "true");
    if (unread.has(channel.id)) button.classList.add("unread");
    if (channel.purposes.length) button.title = channel.purposes.join("; ");
    button.addEventListener("click", () => onOpen(channel.id));
    li.append(button);
    return li;
  };
  const channels = model.channels.filter((c) => !c.is_im);
  const dms = model.channels.filter((c) => c.is_im);
  document.getElementById("channel-list").replaceChildren(...channels.map((c) => item(c, `# ${c.name}`)));
  const home = { id: HOME, purposes: [] };
  document.getElementById("dm-list").replaceChildren(
    item(home, `${model.botName} · Home`),
    ...dms.map((c) => item(c, model.botName)),
  );
}

/** The sidebar entry of the app's Home tab: not a conversation, a view the bot publishes. */
export const HOME = "home";

/** The name and purpose shown above the messages. */
export function conversationTitle(model, channelId) {
  if (channelId === HOME) return { name: `${model.botName} · Home`, purpose: "The app's Home tab, as published to you" };
  const channel = model.channels.find((c) => c.id === channelId);
  if (!channel) return { name: "", purpose: "" };
  if (channel.is_im) return { name: model.botName, purpose: "Your direct messages with Handrail" };
  return { name: `# ${channel.name}`, purpose: channel.purposes.join(" · ") };
}
