// The invitation link is /invitations#<secret>: browsers never send the part after '#', so it reaches
// neither the server's access log nor a Referer header. This moves it into the form (posted in the body)
// and out of the address bar and history. Without JavaScript the invitee pastes it into the field.
(function () {
  var secret = window.location.hash.replace(/^#/, "");
  var field = document.getElementById("invitation");
  if (!secret || !field) {
    return;
  }
  field.value = secret;
  document.getElementById("invitation-code").hidden = true;
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
})();
