// The page server's API: the person's state, their change stream, and their actions.
// Every refusal comes back as {ok: false, error}; callers show it to the person who acted.

/** Thrown for any answer that is not ok; `message` is what the person should read. */
export class Refusal extends Error {}

export async function fetchState(user) {
  const response = await fetch(`/api/state?user=${encodeURIComponent(user)}`);
  if (!response.ok) throw new Refusal(`The page server answered ${response.status}`);
  return response.json();
}

/** POST one action (click, submit, close, command, post); resolves with the answer. */
export async function act(what, body) {
  let response;
  try {
    response = await fetch(`/api/${what}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new Refusal(`The sandbox page server did not answer (${error.message}); is it still running?`);
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok || !answer || answer.ok === false) {
    throw new Refusal((answer && answer.error) || `The page server answered ${response.status}`);
  }
  return answer;
}

/**
 * Listen to the person's changes. `onReady` runs on every (re)connection, so the caller
 * reloads the whole state then and never misses what happened while disconnected.
 */
export function openStream(user, { onReady, onEvent, onDown }) {
  const source = new EventSource(`/api/stream?user=${encodeURIComponent(user)}`);
  source.addEventListener("ready", () => onReady());
  for (const name of ["message", "message_deleted", "ephemeral", "modal", "home", "reset"]) {
    source.addEventListener(name, (event) => onEvent(name, JSON.parse(event.data)));
  }
  source.addEventListener("error", () => onDown());
  return source;
}
