// Evidence upload with a progress bar. The file streams to the API; the CSRF token travels in a header.
(function () {
  "use strict";
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)portal_csrf=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  document.querySelectorAll("form.upload").forEach(function (form) {
    var progress = form.querySelector(".upload-progress");
    var status = form.querySelector(".upload-status");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = form.querySelector("input[type=file]");
      if (!input.files.length) { return; }
      var data = new FormData();
      data.append("file", input.files[0]);
      var request = new XMLHttpRequest();
      request.open("POST", form.dataset.uploadUrl);
      request.setRequestHeader("X-CSRFToken", csrfToken());
      request.setRequestHeader("Accept", "application/json");
      progress.hidden = false;
      progress.value = 0;
      status.textContent = "";
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { progress.value = Math.round((e.loaded / e.total) * 100); }
      });
      request.addEventListener("load", function () {
        if (request.status === 201) {
          var body = JSON.parse(request.responseText);
          status.textContent = body.filename + " — sha256 " + body.sha256.slice(0, 16) + "…";
          window.location.reload();
        } else {
          var detail = "Upload failed (" + request.status + ")";
          try { detail = JSON.parse(request.responseText).detail || detail; } catch (ignored) { /* not JSON */ }
          status.textContent = detail;
          progress.hidden = true;
        }
      });
      request.addEventListener("error", function () { status.textContent = "Upload failed: network error"; });
      request.send(data);
    });
  });
})();
