// The export field picker: move a column up or down (keyboard-friendly buttons), tick all or none.
// The checkboxes are submitted in page order, which is the column order of the file.
(function () {
  "use strict";
  var list = document.getElementById("export-fields");
  if (!list) return;

  list.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-move]");
    if (!button) return;
    var item = button.closest("li");
    if (button.dataset.move === "up" && item.previousElementSibling) {
      list.insertBefore(item, item.previousElementSibling);
    } else if (button.dataset.move === "down" && item.nextElementSibling) {
      list.insertBefore(item.nextElementSibling, item);
    }
    button.focus();
  });

  document.querySelectorAll("[data-export-tick]").forEach(function (button) {
    button.addEventListener("click", function () {
      var tick = button.dataset.exportTick === "all";
      list.querySelectorAll("input[type=checkbox]").forEach(function (box) { box.checked = tick; });
    });
  });
})();
