// Links that carry a secret (/invitations#<secret>, /register/confirm#<secret>) keep it after '#': browsers
// never send that part, so it reaches neither the server's access log nor a Referer header. This moves it into
// the form field marked data-secret-link (posted in the body) and out of the address bar and history.
// Without JavaScript the person pastes it into the field. A field marked data-secret-submit also posts its
// form at once (the invitation: the answer says whom it is for, or why the link no longer works).
(function () {
  var secret = window.location.hash.replace(/^#/, "");
  var field = document.querySelector("input[data-secret-link]");
  if (!secret || !field) {
    return;
  }
  field.value = secret;
  var wrapper = document.getElementById(field.getAttribute("data-secret-link"));
  if (wrapper) {
    wrapper.hidden = true;
  }
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  if (field.hasAttribute("data-secret-submit") && field.form) {
    var note = document.getElementById(field.getAttribute("data-secret-submit"));
    if (note) {
      note.hidden = false;
    }
    field.form.submit();
  }
})();
