// The chat page: one websocket per open chat, live status, streamed answers, job progress and uploads.
// Plain ES2020, no build step. Text is always set with textContent; the one exception is an agent message's
// `html`, which the server rendered from Markdown and sanitised with an allow-list (chat/markdown.py).
"use strict";

(() => {
  const root = document.getElementById("chat");
  if (!root) return;
  const sessionId = root.dataset.sessionId;
  const messages = document.getElementById("messages");
  const statusPill = document.getElementById("status");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const sendButton = document.getElementById("send");
  const cancelButton = document.getElementById("cancel");
  const fileInput = document.getElementById("file");
  const dropzone = document.getElementById("dropzone");
  const uploadBox = document.getElementById("upload-progress");
  const jobs = document.getElementById("jobs");

  let socket = null;
  let retryDelay = 1000;
  let streaming = null; // the agent bubble being typed by `delta` events
  const seen = new Set(); // message ids already shown (history + live)

  const csrfToken = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";

  function scrollDown() {
    messages.scrollTop = messages.scrollHeight;
  }

  function bubble(role, text, extraClass, html) {
    const item = document.createElement("li");
    item.className = `message ${role}${extraClass ? " " + extraClass : ""}`;
    const body = document.createElement("div");
    body.className = "body";
    if (html) {
      body.classList.add("markdown");
      body.innerHTML = html; // sanitised on the server; never set for a user's message
    } else {
      body.textContent = text;
    }
    item.append(body);
    messages.append(item);
    scrollDown();
    return item;
  }

  function showMessage(event) {
    if (seen.has(event.id)) return;
    seen.add(event.id);
    if (event.role === "agent" && streaming) {
      streaming.remove();
      streaming = null;
    }
    const item = bubble(event.role, event.content, "", event.role === "agent" ? event.html : "");
    const time = document.createElement("time");
    time.dateTime = event.timestamp;
    time.textContent = new Date(event.timestamp).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    item.append(time);
  }

  function setStatus(status, message) {
    statusPill.dataset.status = status;
    statusPill.textContent = message ? `${status}: ${message}` : status;
    const busy = status === "processing" || status === "initializing";
    cancelButton.hidden = status !== "processing";
    sendButton.disabled = busy;
  }

  function showProgress(event) {
    let row = document.getElementById(`job-${event.job_id}`);
    if (!row) {
      row = document.createElement("div");
      row.id = `job-${event.job_id}`;
      row.className = "job";
      row.innerHTML = '<div class="job-label"></div><progress max="100"></progress>';
      jobs.append(row);
    }
    row.dataset.status = event.status;
    row.querySelector("progress").value = event.percent;
    const label = row.querySelector(".job-label");
    label.textContent = `${event.stage} · ${Math.round(event.percent)}%${event.message && event.message !== event.stage ? " · " + event.message : ""}`;
    if (event.status === "done" && event.transcript_id) {
      const link = document.createElement("a");
      link.href = `/library/${encodeURIComponent(event.transcript_id)}/`;
      link.textContent = " Open the transcript";
      label.append(link);
    }
  }

  // The chat's jobs as the server saw them when it rendered the page, so a reload redraws their rows at once.
  function showSavedJobs() {
    const saved = document.getElementById("chat-jobs");
    if (saved) JSON.parse(saved.textContent).forEach(showProgress);
  }

  function handle(event) {
    switch (event.type) {
      case "history":
        messages.replaceChildren();
        seen.clear();
        event.messages.forEach(showMessage);
        break;
      case "message":
        showMessage(event);
        break;
      case "delta":
        if (!streaming) streaming = bubble("agent", "", "typing");
        streaming.querySelector(".body").textContent += event.text;
        scrollDown();
        break;
      case "status":
        setStatus(event.status, event.message);
        break;
      case "title":
        root.querySelector(".chat-header h1").textContent = event.title;
        document.querySelectorAll(".chat-list li.current a").forEach((link) => (link.textContent = event.title));
        break;
      case "job.progress":
        showProgress(event);
        break;
      case "error":
        if (streaming) {
          streaming.remove();
          streaming = null;
        }
        bubble("error", event.message);
        break;
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/chat/${sessionId}/`);
    socket.addEventListener("open", () => {
      retryDelay = 1000;
    });
    socket.addEventListener("message", (message) => handle(JSON.parse(message.data)));
    socket.addEventListener("close", (event) => {
      if (event.code === 4401) {
        setStatus("error", "you are logged out; log in again");
        return;
      }
      if (event.code === 4404) {
        setStatus("error", "this chat does not exist");
        return;
      }
      setStatus("error", `disconnected, reconnecting in ${Math.round(retryDelay / 1000)} s`);
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  function send(text) {
    if (!text.trim() || !socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify({ type: "message", text }));
    return true;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (send(input.value)) input.value = "";
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  cancelButton.addEventListener("click", () => socket && socket.send(JSON.stringify({ type: "cancel" })));

  function upload(file) {
    const data = new FormData();
    data.append("file", file);
    data.append("session_id", sessionId);
    const request = new XMLHttpRequest();
    request.open("POST", "/api/upload");
    request.setRequestHeader("X-CSRFToken", csrfToken());
    uploadBox.hidden = false;
    const bar = uploadBox.querySelector("progress");
    const label = uploadBox.querySelector("span");
    label.textContent = `Uploading ${file.name}…`;
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.value = (event.loaded / event.total) * 100;
    });
    request.addEventListener("load", () => {
      uploadBox.hidden = true;
      let body = {};
      try {
        body = JSON.parse(request.responseText);
      } catch (error) {
        body = { error: `upload failed (${request.status})` };
      }
      if (request.status === 200 && body.success) {
        send(`Please transcribe my upload ${body.filename} (upload id ${body.file_id}).`);
      } else {
        bubble("error", body.error || body.detail || `Upload failed (${request.status}).`);
      }
    });
    request.addEventListener("error", () => {
      uploadBox.hidden = true;
      bubble("error", "The upload failed: the connection was lost.");
    });
    request.send(data);
  }

  fileInput.addEventListener("change", () => {
    if (fileInput.files.length) upload(fileInput.files[0]);
    fileInput.value = "";
  });
  // A file dragged anywhere over the chat can be dropped there; the drop zone lights up over the composer only,
  // so the messages stay readable. Dragging text or a link inside the page shows nothing.
  const carriesFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
  ["dragenter", "dragover"].forEach((name) =>
    root.addEventListener(name, (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      dropzone.hidden = false;
    }),
  );
  root.addEventListener("dragleave", (event) => {
    // dragleave also fires when the pointer moves onto a child element: hide only when it leaves the chat.
    if (!root.contains(event.relatedTarget)) dropzone.hidden = true;
  });
  root.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    dropzone.hidden = true;
    if (event.dataTransfer.files.length) upload(event.dataTransfer.files[0]);
  });
  // A file dropped beside the chat must not make the browser leave the page to open it.
  ["dragover", "drop"].forEach((name) =>
    document.addEventListener(name, (event) => {
      if (carriesFiles(event)) event.preventDefault();
    }),
  );

  showSavedJobs();
  connect();
})();
