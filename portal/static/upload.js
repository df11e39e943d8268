// Evidence upload with a progress bar. The file streams to the API; the CSRF token travels in a header.
// Every outcome is said in the page's language (the texts are on the form, translated by the server):
// 201 added (the page reloads to show it, with a notice), 200 already attached, anything else refused and why
// (the reasons by status are on the form as JSON, translated like the rest).
(function () {
  "use strict";
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)portal_csrf=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, key) { return values[key] || ""; });
  }
  document.querySelectorAll("form.upload").forEach(function (form) {
    var progress = form.querySelector(".upload-progress");
    var status = form.querySelector(".upload-status");
    var say = form.dataset;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = form.querySelector("input[type=file]");
      if (!input.files.length) { return; }
      var name = input.files[0].name;
      var data = new FormData();
      data.append("file", input.files[0]);
      var request = new XMLHttpRequest();
      request.open("POST", form.dataset.uploadUrl);
      request.setRequestHeader("X-CSRFToken", csrfToken());
      request.setRequestHeader("Accept", "application/json");
      progress.hidden = false;
      progress.value = 0;
      status.textContent = say.uploading;
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { progress.value = Math.round((e.loaded / e.total) * 100); }
      });
      request.addEventListener("load", function () {
        progress.hidden = true;
        var body = {};
        try { body = JSON.parse(request.responseText); } catch (ignored) { /* not JSON */ }
        if (request.status === 201) {
          status.textContent = fill(say.added, { name: body.filename || name });
          window.location.assign(window.location.pathname + "?notice=evidence-added#evidence");
        } else if (request.status === 200) {
          status.textContent = fill(say.already, { name: body.filename || name });
          input.value = "";
        } else {
          // The API's own words are English: an English page shows them (they are the most precise), any
          // other language the translated reason for the status.
          var reasons = JSON.parse(say.reasons || "{}");
          var english = document.documentElement.lang === "en" && body.detail;
          var reason = request.status === 413 ? say.tooLarge
            : request.status === 415 ? say.badType
            : english ? body.detail
            : reasons[String(request.status)] || fill(reasons.other || "%(status)s", { status: String(request.status) });
          status.textContent = fill(say.refused, { reason: reason });
        }
      });
      request.addEventListener("error", function () {
        progress.hidden = true;
        status.textContent = say.network;
      });
      request.send(data);
    });
  });
})();
