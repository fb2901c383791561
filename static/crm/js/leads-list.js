// The lead list: clean URLs for the live filter form, and "select every lead on this page".
(function () {
  "use strict";

  // htmx sends every field of the filter form; drop the empty ones so the pushed URL stays short and shareable.
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "lead-filter") return;
    var data = event.detail.formData;
    Array.from(new Set(Array.from(data.keys()))).forEach(function (key) {
      var kept = data.getAll(key).filter(function (value) { return String(value).trim() !== ""; });
      data.delete(key);
      kept.forEach(function (value) { data.append(key, value); });
    });
  });

  // The header checkbox of the selection column ticks or clears every row checkbox on the page.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-check-all]")) return;
    var form = box.closest("form");
    if (!form) return;
    form.querySelectorAll('input[type="checkbox"][name="' + box.dataset.checkAll + '"]').forEach(function (row) {
      row.checked = box.checked;
    });
  });
})();
