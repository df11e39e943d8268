// Answer forms: the justification and the planned date show only for the statuses that need them. Which
// statuses those are comes from the server (data-statuses, from the same rules that check the answer);
// a hidden field is also disabled, so it is not sent. Without JavaScript every field shows.
(function () {
  "use strict";
  document.querySelectorAll("form.answer").forEach(function (form) {
    var status = form.querySelector("select[name=status]");
    if (!status) { return; }
    function update() {
      form.querySelectorAll(".when-status").forEach(function (block) {
        var needed = block.dataset.statuses.split(" ").indexOf(status.value) !== -1;
        block.hidden = !needed;
        block.querySelectorAll("input, textarea").forEach(function (field) { field.disabled = !needed; });
      });
    }
    status.addEventListener("change", update);
    update();
  });
})();
