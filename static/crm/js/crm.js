// Small glue for the whole site: toasts for Django messages and for failed htmx requests.
(function () {
  "use strict";

  function showToasts(root) {
    (root || document).querySelectorAll(".toast:not(.showing):not(.show)").forEach(function (el) {
      var toast = bootstrap.Toast.getOrCreateInstance(el, { autohide: el.dataset.autohide !== "false", delay: 6000 });
      el.addEventListener("hidden.bs.toast", function () { el.remove(); });
      toast.show();
    });
  }

  window.crmToast = function (text, level) {
    var box = document.getElementById("toasts");
    var el = document.createElement("div");
    el.className = "toast align-items-center border-0 text-bg-" + (level || "danger");
    el.setAttribute("role", "alert");
    el.dataset.autohide = level === "danger" ? "false" : "true";
    var inner = document.createElement("div");
    inner.className = "d-flex";
    var body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close btn-close-white me-2 m-auto";
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", "Close");
    inner.append(body, close);
    el.append(inner);
    box.append(el);
    showToasts(box);
  };

  document.addEventListener("DOMContentLoaded", function () { showToasts(); });

  // Messages rendered into an htmx response (an out-of-band swap into #toasts) show too.
  document.addEventListener("htmx:afterSettle", function () { showToasts(document.getElementById("toasts")); });

  // A failed htmx request shows a message; it never swaps an error page into a fragment.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = xhr.getResponseHeader("X-Error-Message");
    if (!text) {
      if (xhr.status === 403) text = "You are not allowed to do that, or your session has expired. Reload the page and sign in again.";
      else if (xhr.status === 404) text = "That was not found. It may have been deleted or assigned to someone else.";
      else if (xhr.status === 400) text = "The request was not accepted. Check the form and try again.";
      else text = "Something went wrong on the server (" + xhr.status + "). Nothing was changed; please try again.";
    }
    window.crmToast(text, "danger");
  });
  document.addEventListener("htmx:sendError", function () {
    window.crmToast("The server could not be reached. Check your connection and try again.", "danger");
  });

  // Buttons and forms with data-confirm ask before acting (destructive actions).
  document.addEventListener("htmx:confirm", function (event) {
    var el = event.detail.elt;
    var question = el.getAttribute && el.getAttribute("data-confirm");
    if (!question) return;
    event.preventDefault();
    if (window.confirm(question)) event.detail.issueRequest(true);
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !form.hasAttribute("hx-post") && !window.confirm(question)) event.preventDefault();
  });
})();
