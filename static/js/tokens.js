// The API tokens page: a Copy button for the secret shown once after creating a token.
// navigator.clipboard needs a secure context (https or localhost); over plain http on a LAN address the fallback
// selects the text and uses execCommand("copy"), and if even that fails the text stays selected for Ctrl+C.
"use strict";

(() => {
  const button = document.getElementById("copy-token");
  if (!button) return;
  const secret = document.getElementById(button.dataset.copy);
  const feedback = document.getElementById("copy-token-feedback");

  function selectSecret() {
    const range = document.createRange();
    range.selectNodeContents(secret);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyBySelection() {
    selectSecret();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  async function copy() {
    const text = secret.textContent.trim();
    let copied = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        copied = true;
      } catch (error) {
        copied = false; // permission refused: try the older way below
      }
    }
    if (!copied) copied = copyBySelection();
    if (copied) {
      feedback.textContent = "Copied.";
      button.textContent = "Copied";
    } else {
      selectSecret();
      feedback.textContent = "Press Ctrl+C (or ⌘C) to copy the selected token.";
    }
  }

  button.hidden = false; // without JavaScript there is nothing to click: the token can still be selected by hand
  button.addEventListener("click", copy);
})();
