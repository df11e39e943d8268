// The invitation link is /invitations#<secret>: browsers never send the part after '#', so it reaches
// neither the server's access log nor a Referer header. This moves it into the form (posted in the body),
// out of the address bar and history, and posts it: the answer says whom the invitation is for, or why the
// link no longer works. Without JavaScript the invitee pastes it and presses Continue.
(function () {
  var secret = window.location.hash.replace(/^#/, "");
  var field = document.getElementById("invitation");
  if (!secret || !field) {
    return;
  }
  field.value = secret;
  document.getElementById("invitation-code").hidden = true;
  document.getElementById("invitation-checking").hidden = false;
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  document.getElementById("invitation-form").submit();
})();
