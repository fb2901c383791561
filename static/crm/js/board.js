// The pipeline board: drag and drop (SortableJS) and the "Move to…" dialog, both saving through one POST.
// Nothing is shown moved that the server has not saved: a refused or failed move puts the card back.
(function () {
  "use strict";

  var dialogEl = document.getElementById("board-move");
  var form = document.getElementById("board-move-form");
  var pending = null; // the move the dialog is asking about: {card, fields, origin} or {card, menu: true}

  function boardEl() { return document.getElementById("board"); }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["x-csrftoken"]; } catch (e) { return ""; }
  }

  function cardOf(uuid) { return document.getElementById("card-" + uuid); }

  function listOf(stageId) { return document.getElementById("cards-" + stageId); }

  function siblingCard(card, direction) {
    var el = card[direction];
    while (el && !el.classList.contains("board-card")) el = el[direction];
    return el;
  }

  function neighbours(card) {
    var above = siblingCard(card, "previousElementSibling");
    var below = siblingCard(card, "nextElementSibling");
    return { before: above ? above.dataset.lead : "", after: below ? below.dataset.lead : "" };
  }

  function putBack(card, origin) {
    if (!origin || !origin.from) return;
    if (origin.next && origin.next.parentNode === origin.from) origin.from.insertBefore(card, origin.next);
    else origin.from.appendChild(card);
  }

  function reload(stageId) {
    var list = listOf(stageId);
    if (list) htmx.trigger(list, "board-reload");
  }

  // Column headers after a move: a fresh header where the server sent one (exact totals), else the new count
  // (a big column's value is an estimate that one card does not change).
  function applyColumns(columns) {
    Object.keys(columns || {}).forEach(function (stageId) {
      var head = document.getElementById("col-head-" + stageId);
      var column = columns[stageId];
      if (!head) return;
      if (column.head) {
        var template = document.createElement("template");
        template.innerHTML = column.head.trim();
        head.replaceWith(template.content.firstElementChild);
        return;
      }
      var badge = head.querySelector(".board-count");
      if (!badge) return;
      badge.title = column.count_display + (column.count === 1 ? " lead" : " leads");
      badge.firstChild.textContent = column.count_display;
    });
  }

  function replaceCard(card, html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var fresh = template.content.firstElementChild;
    card.replaceWith(fresh);
    htmx.process(fresh);
    return fresh;
  }

  function messageFor(status, body) {
    if (body && body.error) return body.error;
    if (status === 403) return "You are not allowed to do that, or your session has expired. Reload the page and sign in again.";
    return "The move was not saved (" + status + "). The card is back where it was.";
  }

  // POST the move. `place(fresh)` puts the saved card where it belongs (drag: where it was dropped).
  function send(card, fields, origin, place) {
    var data = new FormData();
    data.append("lead", card.dataset.lead);
    data.append("version", card.dataset.version);
    data.append("filters", boardEl().dataset.filters || "");
    Object.keys(fields).forEach(function (key) { data.append(key, fields[key] == null ? "" : fields[key]); });
    card.classList.add("is-saving");
    card.setAttribute("aria-busy", "true");
    return fetch(boardEl().dataset.moveUrl, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { status: response.status, body: body };
      });
    }).then(function (result) {
      card.classList.remove("is-saving");
      card.removeAttribute("aria-busy");
      var body = result.body;
      if (result.status === 200) {
        applyColumns(body.columns);
        var fresh = replaceCard(card, body.card);
        if (place) place(fresh);
        return fresh;
      }
      putBack(card, origin);
      applyColumns(body.columns);
      if (result.status === 409) {
        // Show the card where the server has it: reload the columns it was in and is in now.
        card.remove();
        reload(origin && origin.from ? origin.from.dataset.stage : card.dataset.stage);
        if (body.stage) reload(body.stage);
      }
      window.crmToast(messageFor(result.status, body), "danger");
      return null;
    }).catch(function () {
      card.classList.remove("is-saving");
      card.removeAttribute("aria-busy");
      putBack(card, origin);
      window.crmToast("The server could not be reached, so the move was not saved. The card is back where it was.", "danger");
      return null;
    });
  }

  // --- drag and drop -----------------------------------------------------------------------------------

  function onStart(evt) {
    evt.item.boardOrigin = { from: evt.from, next: evt.item.nextElementSibling };
  }

  function onEnd(evt) {
    var card = evt.item;
    var origin = card.boardOrigin;
    var to = card.parentNode;
    if (!origin || (origin.from === to && evt.oldIndex === evt.newIndex)) return;
    var more = to.querySelector(":scope > .board-more");
    if (more && (more.compareDocumentPosition(card) & Node.DOCUMENT_POSITION_FOLLOWING)) to.insertBefore(card, more);
    var empty = to.querySelector(":scope > .board-empty");
    if (empty) empty.remove();
    var fields = neighbours(card);
    fields.stage = to.dataset.stage;
    var kind = to.dataset.kind;
    if (origin.from !== to && (kind === "lost" || kind === "won")) {
      openDialog({ card: card, fields: fields, origin: origin, kind: kind, stageName: to.dataset.name });
      return;
    }
    send(card, fields, origin);
  }

  function initLists(root) {
    if (!window.Sortable) return;
    var lists = [];
    if (root.matches && root.matches(".board-cards")) lists.push(root);
    root.querySelectorAll && root.querySelectorAll(".board-cards").forEach(function (list) { lists.push(list); });
    lists.forEach(function (list) {
      if (list.dataset.sortable || !list.id) return;
      list.dataset.sortable = "1";
      Sortable.create(list, {
        group: "board",
        draggable: ".board-card",
        filter: ".is-saving, button, input, select, textarea",
        preventOnFilter: false,
        forceFallback: true,
        fallbackTolerance: 4,
        delay: 200,
        delayOnTouchOnly: true,
        animation: 120,
        onStart: onStart,
        onEnd: onEnd,
      });
    });
  }

  // --- the "Move to…" dialog (keyboard and phone; also asks for a reason or a value after a drop) -----------

  function showFor(kind) {
    form.querySelector("[data-move-note]").hidden = kind !== "lost";
    form.querySelector("[data-move-value]").hidden = kind !== "won";
  }

  function selectedKind() {
    var option = form.elements.stage.selectedOptions[0];
    return option ? option.dataset.kind : "open";
  }

  function openDialog(move) {
    pending = move;
    var card = move.card;
    form.reset();
    form.elements.lead.value = card.dataset.lead;
    form.elements.version.value = card.dataset.version;
    form.elements.filters.value = boardEl().dataset.filters || "";
    dialogEl.querySelector("[data-move-name]").textContent = card.dataset.name || "";
    var choose = form.querySelector("[data-move-choose]");
    if (move.menu) {
      choose.hidden = false;
      form.elements.stage.value = card.dataset.stage;
      form.elements.before.value = "";
      form.elements.after.value = "";
      showFor(selectedKind());
    } else {
      choose.hidden = true;
      form.elements.stage.value = move.fields.stage;
      form.elements.before.value = move.fields.before;
      form.elements.after.value = move.fields.after;
      showFor(move.kind);
    }
    bootstrap.Modal.getOrCreateInstance(dialogEl).show();
  }

  function placeAfterMenuMove(fresh, position) {
    var list = listOf(fresh.dataset.stage);
    if (!list) { fresh.remove(); return; }
    var empty = list.querySelector(":scope > .board-empty");
    if (empty) empty.remove();
    var more = list.querySelector(":scope > .board-more");
    if (position === "bottom") {
      if (more) { fresh.remove(); return; } // below the cards loaded so far
      list.appendChild(fresh);
    } else {
      list.insertBefore(fresh, list.firstElementChild);
    }
    var button = fresh.querySelector(".board-move-btn");
    if (button) button.focus();
  }

  if (form) {
    form.elements.stage.addEventListener("change", function () { showFor(selectedKind()); });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var move = pending;
      if (!move) return;
      pending = null; // confirmed: hiding the dialog must not put the card back
      var fields = {
        stage: form.elements.stage.value,
        before: form.elements.before.value,
        after: form.elements.after.value,
        position: form.elements.position.value,
        note: form.querySelector("[data-move-note]").hidden ? "" : form.elements.note.value,
        value: form.querySelector("[data-move-value]").hidden ? "" : form.elements.value.value,
      };
      bootstrap.Modal.getOrCreateInstance(dialogEl).hide();
      if (move.menu) {
        var card = move.card;
        send(card, fields, { from: card.parentNode, next: card.nextElementSibling }, function (fresh) {
          placeAfterMenuMove(fresh, fields.position);
          window.crmToast("Moved " + (fresh.dataset.name || "the lead") + " to " + (form.elements.stage.selectedOptions[0] || {}).textContent + ".", "success");
        });
      } else {
        send(move.card, fields, move.origin);
      }
    });

    dialogEl.addEventListener("shown.bs.modal", function () {
      var target = !form.querySelector("[data-move-choose]").hidden ? form.elements.stage
        : !form.querySelector("[data-move-note]").hidden ? form.elements.note : form.elements.value;
      target.focus();
    });

    dialogEl.addEventListener("hidden.bs.modal", function () {
      var move = pending;
      pending = null;
      if (!move) return;
      if (!move.menu) putBack(move.card, move.origin); // a drop into won/lost that was cancelled
      var button = move.card.querySelector(".board-move-btn");
      if (button && document.body.contains(button)) button.focus();
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".board-move-btn");
    if (!button) return;
    var card = button.closest(".board-card");
    if (card && !card.classList.contains("is-saving")) openDialog({ card: card, menu: true });
  });

  htmx.onLoad(initLists);
})();
