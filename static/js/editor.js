// The assumption editor's small client side (no inline handlers: a strict CSP comes):
// - an input whose error slot holds a message is marked aria-invalid, after every swap;
// - leaving the page with unsaved edits asks first, except when the edits are being saved.
(function () {
  "use strict";
  var saving = false;

  function markInvalid() {
    document.querySelectorAll("#editor input[aria-describedby]").forEach(function (input) {
      var slot = document.getElementById(input.getAttribute("aria-describedby"));
      if (slot && slot.textContent.trim()) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
  }

  document.addEventListener("htmx:after:swap", markInvalid);
  document.addEventListener("htmx:after:settle", markInvalid);

  document.addEventListener("click", function (event) {
    if (event.target instanceof Element && event.target.closest("[data-save-version]")) saving = true;
  });
  document.addEventListener("htmx:response:error", function () { saving = false; });

  window.addEventListener("beforeunload", function (event) {
    var status = document.getElementById("editor-status");
    if (!saving && status && status.dataset.unsaved === "true") {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
