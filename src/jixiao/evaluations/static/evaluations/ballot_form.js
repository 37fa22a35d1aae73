// Marks unanswered questions before submitting and disables the button after one tap (one ballot).
// The message comes from the form's data-incomplete attribute (translated on the server).
(function () {
  var form = document.getElementById("ballot"), box = document.getElementById("error");
  if (!form) return;
  form.addEventListener("change", function (ev) {
    var fs = ev.target.closest("fieldset");
    if (fs) fs.classList.remove("missing");
  });
  form.addEventListener("submit", function (ev) {
    var missing = [];
    form.querySelectorAll("fieldset.q").forEach(function (fs) {
      var done = fs.querySelector("input:checked") !== null;
      fs.classList.toggle("missing", !done);
      if (!done) missing.push(fs);
    });
    if (missing.length) {
      ev.preventDefault();
      box.textContent = (form.dataset.incomplete || "").replace("%(n)s", missing.length);
      box.hidden = false;
      missing[0].scrollIntoView({behavior: "smooth", block: "center"});
      return;
    }
    document.getElementById("submit").disabled = true;
  });
})();
