// The transcript page: a player that follows the text (click a line to seek, the line and word being spoken are
// highlighted, space plays/pauses, ?t=83.4 starts there), renaming, and editing a line in place with undo.
// Text is always set with textContent, never as HTML.
"use strict";

(() => {
  const root = document.getElementById("workspace");
  if (!root) return;
  const player = document.getElementById("player");
  const segments = [...document.querySelectorAll(".segment")];
  const csrfToken = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
  let current = null;
  let currentWord = null;

  async function postJson(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({ detail: `The server answered ${response.status}.` }));
    if (!response.ok) throw new Error(data.detail || `The server answered ${response.status}.`);
    return data;
  }

  // ---- player ------------------------------------------------------------------------------------------------

  function seek(seconds, play = true) {
    if (!player) return;
    player.currentTime = seconds;
    if (play) player.play().catch(() => {});
  }

  function segmentAt(time) {
    let found = null;
    for (const segment of segments) {
      if (Number(segment.dataset.start) <= time + 0.05) found = segment;
      else break;
    }
    return found && time <= Number(found.dataset.end) + 0.5 ? found : null;
  }

  function follow() {
    const time = player.currentTime;
    const segment = segmentAt(time);
    if (segment !== current) {
      if (current) current.classList.remove("current");
      current = segment;
      if (current) {
        current.classList.add("current");
        current.scrollIntoView({ block: "nearest", behavior: "smooth" });
      }
    }
    const word = current && [...current.querySelectorAll(".word")].find(
      (item) => Number(item.dataset.start) <= time && time < Number(item.dataset.end) + 0.15);
    if (word !== currentWord) {
      if (currentWord) currentWord.classList.remove("current-word");
      currentWord = word || null;
      if (currentWord) currentWord.classList.add("current-word");
    }
  }

  if (player) {
    player.addEventListener("timeupdate", follow);
    player.addEventListener("seeked", follow);
    const start = Number(new URLSearchParams(location.search).get("t"));
    if (start > 0) {
      const begin = () => { player.currentTime = start; follow(); };
      if (player.readyState >= 1) begin(); else player.addEventListener("loadedmetadata", begin, { once: true });
    }
    document.addEventListener("keydown", (event) => {
      const typing = event.target.closest("input, textarea, select, button, [contenteditable=true]");
      if (event.code !== "Space" || typing) return;
      event.preventDefault();
      if (player.paused) player.play().catch(() => {}); else player.pause();
    });
  }

  // ---- editing -------------------------------------------------------------------------------------------------

  function showError(segment, message) {
    let error = segment.querySelector(".error");
    if (!error) {
      error = document.createElement("span");
      error.className = "error";
      error.setAttribute("role", "alert");
      segment.append(error);
    }
    error.textContent = message;
  }

  function showSaved(segment, data) {
    const text = segment.querySelector(".text");
    text.textContent = data.text;
    segment.classList.toggle("edited", data.edited);
    segment.querySelector(".edited-mark").hidden = !data.edited;
    segment.querySelector(".edited-mark").title = data.edited ? `Whisper heard: ${data.original}` : "";
    segment.querySelector(".undo").hidden = !data.edited;
    const error = segment.querySelector(".error");
    if (error) error.remove();
  }

  function startEditing(segment) {
    const text = segment.querySelector(".text");
    const before = text.textContent.trim().replace(/\s+/g, " ");
    text.textContent = before;
    text.contentEditable = "true";
    text.focus();
    const finish = async (save) => {
      text.contentEditable = "false";
      text.removeEventListener("keydown", onKey);
      text.removeEventListener("blur", onBlur);
      const after = text.textContent.trim().replace(/\s+/g, " ");
      if (!save || after === before) { text.textContent = before; return; }
      try {
        showSaved(segment, await postJson(segment.dataset.url, { text: after }));
      } catch (error) {
        text.textContent = before;
        showError(segment, error.message);
      }
    };
    const onKey = (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); finish(true); }
      if (event.key === "Escape") { event.preventDefault(); finish(false); }
    };
    const onBlur = () => finish(true);
    text.addEventListener("keydown", onKey);
    text.addEventListener("blur", onBlur);
  }

  for (const segment of segments) {
    segment.querySelector(".seek").addEventListener("click", () => seek(Number(segment.dataset.start)));
    segment.querySelector(".text").addEventListener("click", (event) => {
      if (event.currentTarget.isContentEditable) return;
      const word = event.target.closest(".word");
      seek(Number((word || segment).dataset.start));
    });
    segment.querySelector(".edit").addEventListener("click", () => startEditing(segment));
    segment.querySelector(".undo").addEventListener("click", async () => {
      try {
        showSaved(segment, await postJson(segment.dataset.url, { revert: true }));
      } catch (error) {
        showError(segment, error.message);
      }
    });
  }

  // ---- gaps: speech where no words were recognised, marked on the timeline and in the text --------------------

  const timeline = document.getElementById("timeline");
  const duration = timeline ? Number(timeline.dataset.duration) : 0;
  for (const mark of document.querySelectorAll(".gap-mark")) {
    if (duration > 0) {  // positioned through CSSOM: the CSP allows no inline style attributes
      mark.style.left = `${(100 * Number(mark.dataset.start)) / duration}%`;
      mark.style.width = `${Math.max(0.5, (100 * (Number(mark.dataset.end) - Number(mark.dataset.start))) / duration)}%`;
    }
    mark.addEventListener("click", () => seek(Number(mark.dataset.start)));
  }
  for (const gap of document.querySelectorAll(".segments .gap")) {
    gap.querySelector(".seek").addEventListener("click", () => seek(Number(gap.dataset.start)));
  }

  // ---- title and delete ----------------------------------------------------------------------------------------

  const title = document.getElementById("transcript-title");
  const renameForm = document.getElementById("rename-form");
  const renameInput = document.getElementById("rename-input");
  const renameError = document.getElementById("rename-error");
  document.getElementById("rename").addEventListener("click", () => {
    renameForm.hidden = false;
    renameInput.value = title.textContent;
    renameInput.focus();
  });
  document.getElementById("rename-cancel").addEventListener("click", () => { renameForm.hidden = true; });
  renameForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const data = await postJson(root.dataset.renameUrl, { title: renameInput.value });
      title.textContent = data.title;
      document.title = `${data.title} · VideoAgent`;
      renameForm.hidden = true;
      renameError.textContent = "";
    } catch (error) {
      renameError.textContent = error.message;
    }
  });

  document.getElementById("delete-form").addEventListener("submit", (event) => {
    if (!window.confirm(`Delete “${title.textContent}” and its files? This cannot be undone.`)) event.preventDefault();
  });
})();
