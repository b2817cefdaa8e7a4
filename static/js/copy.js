// Copy buttons for read-only fields: a calendar's address (templates/sessions/
// _calendar_links.html), an authenticator's secret key (templates/mfa/totp/activate_form.html).
// The button stays hidden without JavaScript: the field itself can be selected and copied.
// A press copies the field's value and says so (the button's data-copied, or
// data-copy-failed) in the live region "<field id>-status".
(function () {
  "use strict";

  function announce(field, text) {
    var status = document.getElementById(field.id + "-status");
    if (status) {
      status.textContent = "";
      // A fresh text node after a tick, so a second "Copied" is read out again.
      window.setTimeout(function () { status.textContent = text; }, 50);
    }
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

  function setUp(button) {
    if (button.dataset.copyReady) {
      return;
    }
    var field = document.getElementById(button.dataset.copyFrom);
    if (!field) {
      return;
    }
    button.dataset.copyReady = "yes";
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () { announce(field, button.dataset.copied); };
      var failed = function () {
        if (copyByHand(field)) {
          done();
        } else {
          announce(field, button.dataset.copyFailed);
        }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, failed);
      } else {
        failed();
      }
    });
  }

  function setUpAll() {
    document.querySelectorAll("button[data-copy-from]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
})();
