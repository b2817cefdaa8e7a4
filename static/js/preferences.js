// Show a field only while a checkbox is ticked: <select data-shown-with="checkbox-id">.
// The field's whole block (label, hint, control) is hidden; without JavaScript both show.
(function () {
  "use strict";

  function setUp() {
    document.querySelectorAll("[data-shown-with]").forEach(function (control) {
      var checkbox = document.getElementById(control.getAttribute("data-shown-with"));
      var block = control.closest(".field") || control;
      if (!checkbox) return;
      var update = function () { block.hidden = !checkbox.checked; };
      checkbox.addEventListener("change", update);
      update();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
