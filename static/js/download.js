// Report downloads take a few seconds to build. A link marked data-download="<indicator id>"
// shows that indicator until the file starts to arrive: the link carries a one-off token and
// the server answers with a cookie holding it, which this polls for. No inline handlers.
(function () {
  "use strict";

  function tokenCookie(token) {
    return document.cookie.split("; ").indexOf("download_token=" + token) !== -1;
  }

  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element ? event.target.closest("a[data-download]") : null;
    if (!link) return;
    var indicator = document.getElementById(link.dataset.download);
    var token = Math.random().toString(36).slice(2, 12);
    var url = new URL(link.href, window.location.href);
    url.searchParams.set("download_token", token);
    link.href = url.toString();
    if (!indicator) return;
    indicator.classList.add("htmx-request");
    var started = Date.now();
    var timer = window.setInterval(function () {
      if (tokenCookie(token) || Date.now() - started > 120000) {
        indicator.classList.remove("htmx-request");
        window.clearInterval(timer);
      }
    }, 250);
  });
})();
