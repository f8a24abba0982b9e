// Short notes for the person who acted: refusals from the page server or from Handrail.

const SHOWN_FOR_MS = 10000;

export function showToast(text, kind = "error") {
  const box = document.getElementById("toasts");
  const toast = document.createElement("div");
  toast.className = `toast toast-${kind}`;
  const words = document.createElement("span");
  words.textContent = text;
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "×";
  close.setAttribute("aria-label", "Dismiss");
  close.addEventListener("click", () => toast.remove());
  toast.append(words, close);
  box.append(toast);
  setTimeout(() => toast.remove(), SHOWN_FOR_MS);
}
