// The schedule and change-meeting forms (templates/sessions/schedule.html, edit.html).
//
// Without this file every field shows, each part saying when it counts, and the server
// ignores the parts the choices do not use. With it:
// - a part marked data-show-when="NAME" data-show-values="A B" is hidden unless the
//   field NAME (radios or a select) has one of those values;
// - where htmx previews the dates as the form changes, the "Preview" button goes away;
// - the error summary takes the focus, and following one of its links focuses the field
//   (the first radio of a group), not only scrolls to it.
(function () {
  "use strict";

  function chosen(form, name) {
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    if (checked) {
      return checked.value;
    }
    var select = form.querySelector('select[name="' + name + '"]');
    return select ? select.value : null;
  }

  function showChosenParts(form) {
    form.querySelectorAll("[data-show-when]").forEach(function (part) {
      var value = chosen(form, part.dataset.showWhen);
      var values = part.dataset.showValues.split(" ");
      part.hidden = value !== null && values.indexOf(value) === -1;
    });
  }

  function focusField(target) {
    var control = target.matches("input, select, textarea")
      ? target
      : target.querySelector("input, select, textarea");
    (control || target).focus();
    target.scrollIntoView({ block: "center" });
  }

  function setUpErrorSummary(summary) {
    if (document.activeElement !== summary) {
      summary.focus();
    }
    summary.addEventListener("click", function (event) {
      var link = event.target.closest('a[href^="#"]');
      var target = link && document.getElementById(link.hash.slice(1));
      if (target) {
        event.preventDefault();
        focusField(target);
      }
    });
  }

  document.querySelectorAll("form[data-meeting-form]").forEach(function (form) {
    showChosenParts(form);
    form.addEventListener("change", function () {
      showChosenParts(form);
    });
    if (window.htmx) {
      form.querySelectorAll("[data-preview-button]").forEach(function (button) {
        button.remove();
      });
    }
  });
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    setUpErrorSummary(summary);
  }
})();
