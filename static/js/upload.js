// Drop an assumptions file onto an upload card ([data-upload-drop]): it becomes the card's file
// and is previewed at once (nothing is stored until the preview is confirmed). Delegated from
// the document, so cards that htmx swaps in work too; no inline handlers (a strict CSP comes).
(function () {
  "use strict";

  function card(event) {
    return event.target instanceof Element ? event.target.closest("[data-upload-drop]") : null;
  }

  document.addEventListener("dragover", function (event) {
    var zone = card(event);
    if (!zone) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
    zone.classList.add("dragging");
  });

  document.addEventListener("dragleave", function (event) {
    var zone = card(event);
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("dragging");
  });

  document.addEventListener("drop", function (event) {
    var zone = card(event);
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("dragging");
    var files = event.dataTransfer ? event.dataTransfer.files : null;
    var input = zone.querySelector('input[type="file"]');
    if (!files || files.length === 0 || !input) return;
    var chosen = new DataTransfer();
    chosen.items.add(files[0]);
    input.files = chosen.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    if (input.form) input.form.requestSubmit();
  });
})();
