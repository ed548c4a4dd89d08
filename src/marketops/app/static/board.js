// The tasks board: drag a card to another column to change its status. The change is saved with
// PATCH /api/v1/tasks/{id} (session cookie + X-CSRF-Token); the card moves only once the server has
// saved it, and any warning (a dependency not done yet) is shown above the board. Without this
// script every card keeps its status select and Move button (a plain form post).
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || board.dataset.editable !== "1") return;
  var message = document.getElementById("board-message");
  var live = document.getElementById("board-live");
  var dragged = null;

  function say(text, isError) {
    if (live) live.textContent = text;
    if (!message) return;
    message.textContent = text;
    message.hidden = !text;
    message.className = "alert board-message " + (isError ? "alert-error" : "alert-warn");
  }

  function recount() {
    board.querySelectorAll(".board-column").forEach(function (col) {
      var n = col.querySelectorAll(".task-card").length;
      var count = col.querySelector(".board-count");
      if (count) count.textContent = String(n);
      var empty = col.querySelector(".board-empty");
      if (empty) empty.hidden = n > 0;
    });
  }

  function place(card, column, task) {
    var list = column.querySelector(".board-cards");
    list.appendChild(card);
    card.dataset.status = task.status;
    card.classList.toggle("is-overdue", !!task.overdue);
    card.classList.toggle("is-blocked", !!task.blocked);
    var select = card.querySelector("select[name=status]");
    if (select) select.value = task.status;
    recount();
  }

  function save(card, column) {
    var status = column.dataset.status;
    if (card.dataset.status === status) return;
    card.classList.add("is-saving");
    fetch("/api/v1/tasks/" + encodeURIComponent(card.dataset.taskId), {
      method: "PATCH",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRF-Token": board.dataset.csrf },
      body: JSON.stringify({ status: status })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      card.classList.remove("is-saving");
      if (!result.ok) {
        say((result.body.error && result.body.error.message) || "The task could not be moved.", true);
        return;
      }
      place(card, column, result.body);
      say((result.body.warnings || []).join(" "), false);
    }).catch(function () {
      card.classList.remove("is-saving");
      say("The task could not be moved: the server did not answer. Try again.", true);
    });
  }

  board.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest(".task-card[draggable=true]");
    if (!card) return;
    dragged = card;
    card.classList.add("is-dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.dataset.taskId);
  });
  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    board.querySelectorAll(".board-column.is-over").forEach(function (c) { c.classList.remove("is-over"); });
    dragged = null;
  });
  board.querySelectorAll(".board-column").forEach(function (column) {
    column.addEventListener("dragover", function (e) {
      if (!dragged) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
      column.classList.add("is-over");
    });
    column.addEventListener("dragleave", function (e) {
      if (!column.contains(e.relatedTarget)) column.classList.remove("is-over");
    });
    column.addEventListener("drop", function (e) {
      e.preventDefault();
      column.classList.remove("is-over");
      var id = e.dataTransfer.getData("text/plain");
      var card = dragged || board.querySelector('.task-card[data-task-id="' + id + '"]');
      if (card) save(card, column);
    });
  });
  recount();
})();
