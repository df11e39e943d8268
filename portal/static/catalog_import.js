// Catalog import with a progress bar: the file streams to the page route; the CSRF token travels in a header.
// Without JavaScript the form posts normally (the token is in the form) and the page answers the same way.
(function () {
  "use strict";
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)portal_csrf=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  document.querySelectorAll("form.catalog-import").forEach(function (form) {
    var progress = form.querySelector(".upload-progress");
    var status = form.querySelector(".upload-status");
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      if (!input.files.length) { return; }
      event.preventDefault();
      var data = new FormData();
      data.append("file", input.files[0]);
      var request = new XMLHttpRequest();
      request.open("POST", form.dataset.importUrl);
      request.setRequestHeader("X-CSRFToken", csrfToken());
      request.setRequestHeader("Accept", "application/json");
      progress.hidden = false;
      progress.value = 0;
      status.textContent = "";
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { progress.value = Math.round((e.loaded / e.total) * 100); }
      });
      request.addEventListener("load", function () {
        if (request.status === 200 && request.responseURL.indexOf("/catalogs/") !== -1) {
          window.location.assign(request.responseURL);  // the redirect to the imported catalog was followed
          return;
        }
        var detail = String(request.status);
        try { detail = JSON.parse(request.responseText).detail || detail; } catch (ignored) { /* not JSON */ }
        status.textContent = detail;
        progress.hidden = true;
      });
      request.addEventListener("error", function () { status.textContent = String(request.status); });
      request.send(data);
    });
  });
})();
