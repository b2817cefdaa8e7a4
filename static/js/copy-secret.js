// A "Copy" button for a read-only field: <button data-copy-from="field-id"
// data-copy-status="status-id" hidden>. The button stays hidden without JavaScript (the
// field can still be selected and copied by hand); the status element (role="status")
// announces its data-copied or data-failed text.
(function () {
  "use strict";

  function announce(status, text) {
    if (!status) return;
    status.textContent = "";
    // A fresh text node each time, so a second tap is announced again.
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function copyByHand(field) {
    field.focus();
    field.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function copy(button) {
    var field = document.getElementById(button.getAttribute("data-copy-from"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!field) return;
    var done = function () { announce(status, status && status.getAttribute("data-copied")); };
    var failed = function () {
      if (copyByHand(field)) done();
      else announce(status, status && status.getAttribute("data-failed"));
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, failed);
    } else {
      failed();
    }
  }

  function setUp() {
    document.querySelectorAll("button[data-copy-from]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { copy(button); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
