// The lead page: a stage that asks for a follow-up makes the follow-up date required (the server checks too),
// and the company field of the lead form suggests existing companies as you type.
(function () {
  "use strict";

  function syncFollowUp(select) {
    var form = select.closest("form");
    if (!form) return;
    var field = form.querySelector("[data-follow-up-field]");
    if (!field) return;
    var input = field.querySelector("input");
    var option = select.options[select.selectedIndex];
    var asks = !!(option && option.dataset.asksFollowUp);
    field.classList.toggle("follow-up-required", asks);
    if (input) input.required = asks;
    var label = field.querySelector("label");
    if (label) {
      var hint = label.querySelector(".follow-up-hint");
      if (asks && !hint) {
        hint = document.createElement("span");
        hint.className = "follow-up-hint text-danger";
        hint.textContent = " (needed for this stage)";
        label.appendChild(hint);
      } else if (!asks && hint) {
        hint.remove();
      }
    }
  }

  function init(root) {
    (root || document).querySelectorAll(".outcome-form select[name=stage]").forEach(syncFollowUp);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches(".outcome-form select[name=stage]")) {
      syncFollowUp(event.target);
      var input = event.target.closest("form").querySelector("[data-follow-up-field] input");
      if (input && input.required && !input.value) input.focus();
    }
  });
  document.addEventListener("DOMContentLoaded", function () { init(); });
  document.addEventListener("htmx:afterSettle", function () { init(); });
})();
