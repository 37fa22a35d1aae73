/* Indicator tree editor: show only the chosen scoring rule's parameter inputs.
   Without JavaScript every rule's inputs stay visible and only the chosen rule's are read. */
(function () {
  "use strict";
  function sync(root) {
    root.querySelectorAll("select[data-rule-select]").forEach(function (select) {
      var form = select.form;
      if (!form) { return; }
      form.querySelectorAll("fieldset[data-rule]").forEach(function (fieldset) {
        fieldset.hidden = fieldset.getAttribute("data-rule") !== select.value;
      });
    });
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("select[data-rule-select]")) { sync(document); }
  });
  document.addEventListener("DOMContentLoaded", function () { sync(document); });
  document.addEventListener("htmx:afterSettle", function () { sync(document); });
})();
