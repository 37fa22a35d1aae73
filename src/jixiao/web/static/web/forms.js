/* Form helpers loaded on every page (progressive enhancement: forms work without them).
   1. select[data-searchable] becomes a type-to-filter box (Tom Select, vendored), keeping its
      <optgroup> groups (unit → official); long lists show the first matches as the user types.
   2. .rows-table[data-rows] (steps, tiers, grade → rate …) gets working add/remove row buttons. */
(function () {
  "use strict";
  var MAX_SHOWN = 200;

  function enhanceSelects(root) {
    if (typeof window.TomSelect !== "function") { return; }
    root.querySelectorAll("select[data-searchable]").forEach(function (select) {
      if (select.tomselect) { return; }
      var plugins = {};
      if (select.multiple) {
        plugins.remove_button = { title: select.getAttribute("data-remove-title") || "" };
      } else if (!select.required) {
        // An optional choice can be emptied again; the empty option itself is not shown as a choice.
        plugins.clear_button = { title: select.getAttribute("data-clear-title") || "" };
      }
      new window.TomSelect(select, {
        maxOptions: MAX_SHOWN,
        allowEmptyOption: false,
        placeholder: select.getAttribute("data-placeholder") || "",
        searchField: ["text", "optgroup"],
        lockOptgroupOrder: true,
        plugins: plugins,
        render: {
          no_results: function (data, escape) {
            return '<div class="no-results">' + escape(select.getAttribute("data-no-results") || "") + "</div>";
          }
        }
      });
    });
  }

  function wireRows(root) {
    root.querySelectorAll(".rows-table[data-rows]").forEach(function (box) {
      if (box.getAttribute("data-wired")) { return; }
      box.setAttribute("data-wired", "1");
      var body = box.querySelector("tbody");
      var template = box.querySelector("template[data-row-template]");
      // With the buttons working, one blank row is enough; keep at least one row.
      var blanks = Array.prototype.filter.call(body.querySelectorAll("tr[data-row]"), function (tr) {
        return Array.prototype.every.call(tr.querySelectorAll("input, select"), function (el) {
          return !el.value;
        });
      });
      blanks.slice(body.querySelectorAll("tr[data-row]").length === blanks.length ? 1 : 0)
        .forEach(function (tr) { tr.remove(); });
      box.addEventListener("click", function (event) {
        var target = event.target;
        if (target.closest("[data-row-add]")) {
          body.appendChild(template.content.cloneNode(true));
          var rows = body.querySelectorAll("tr[data-row]");
          var first = rows[rows.length - 1].querySelector("input, select");
          if (first) { first.focus(); }
        } else if (target.closest("[data-row-remove]")) {
          var row = target.closest("tr[data-row]");
          if (body.querySelectorAll("tr[data-row]").length > 1) {
            row.remove();
          } else {
            row.querySelectorAll("input, select").forEach(function (el) { el.value = ""; });
          }
        }
      });
    });
  }

  function enhance(root) { enhanceSelects(root); wireRows(root); }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
})();

// A <select data-autosubmit> submits its form when changed (the language and cycle switchers, the
// ranking filters): an event listener here, not an onchange attribute, so the CSP can forbid inline code.
document.addEventListener("change", function (ev) {
  var el = ev.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) el.form.submit();
});

// A button or link with data-confirm asks before it acts (instead of an inline onclick="confirm()").
document.addEventListener("click", function (ev) {
  var el = ev.target instanceof Element ? ev.target.closest("[data-confirm]") : null;
  if (el && !window.confirm(el.getAttribute("data-confirm"))) ev.preventDefault();
});
