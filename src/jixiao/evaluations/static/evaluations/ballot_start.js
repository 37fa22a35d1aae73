// The code is in the URL fragment, which the browser never sends: move it into a POST body and drop
// it from the address bar and history before anything else can read or log it. A static file (not an
// inline script) so the Content-Security-Policy can forbid inline scripts.
(function () {
  var code = location.hash.slice(1);
  if (!code) return;
  history.replaceState(null, "", location.pathname);
  var form = document.getElementById("open");
  form.code.value = decodeURIComponent(code);
  document.getElementById("wait").hidden = false;
  form.submit();
})();
