// The rating token is in the URL fragment (/surveys/r/#<token>), which the browser never sends:
// move it into a POST body and drop it from the address bar and the history.
(function () {
  "use strict";
  var token = location.hash.slice(1);
  if (!token) return;
  history.replaceState(null, "", location.pathname);
  var form = document.getElementById("rate-open");
  document.getElementById("rate-token").value = decodeURIComponent(token);
  document.getElementById("rate-wait").hidden = false;
  form.submit();
})();
