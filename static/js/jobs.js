// The jobs page: live progress of the user's jobs over ws/jobs/. The table comes from the server (so a reload
// shows the state at once); events update its rows. Text is always set with textContent, never as HTML.
"use strict";

(() => {
  const table = document.getElementById("jobs");
  const STATUS_NAMES = { queued: "Queued", downloading: "Downloading", transcribing: "Transcribing", done: "Done", failed: "Failed", cancelled: "Cancelled" };
  const ACTIVE = new Set(["queued", "downloading", "transcribing"]);
  const reloadedFor = new Set();
  let retryDelay = 1000;

  function update(event) {
    const row = table && table.querySelector(`tr[data-job-id="${CSS.escape(event.job_id)}"]`);
    if (!row) {
      // A job started elsewhere (another tab, the chat, the API): show it with the server's rendering.
      if (!reloadedFor.has(event.job_id)) {
        reloadedFor.add(event.job_id);
        location.reload();
      }
      return;
    }
    row.dataset.status = event.status;
    row.querySelector(".status-text").textContent = STATUS_NAMES[event.status] || event.status;
    row.querySelector(".stage").textContent = event.stage;
    const queue = row.querySelector(".queue");
    if (queue && event.status !== "queued") queue.remove();
    const bar = row.querySelector("progress");
    bar.value = event.percent;
    row.querySelector(".percent").textContent = `${Math.round(event.percent)}%`;
    const error = row.querySelector(".error");
    error.textContent = event.status === "failed" ? event.message : "";
    error.hidden = event.status !== "failed";
    const warning = row.querySelector(".warning");
    warning.textContent = event.warning || "";
    warning.hidden = !event.warning;
    const open = row.querySelector(".open");
    if (event.transcript_id) {
      open.href = `/library/${encodeURIComponent(event.transcript_id)}/`;
      open.hidden = false;
    }
    row.querySelector(".cancel").hidden = !ACTIVE.has(event.status);
    row.querySelector(".retry").hidden = !(event.status === "failed" || event.status === "cancelled");
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/jobs/`);
    socket.addEventListener("open", () => { retryDelay = 1000; });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "job.progress") update(event);
    });
    socket.addEventListener("close", (closed) => {
      if (closed.code === 4401) return; // logged out: reconnecting cannot help
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  connect();
})();
