/* The pipeline board: drag a card to another column (or use the card's move menu) to run the
   stage move on the server. A move that needs input or whose guard fails opens a modal that
   asks for the input or lists what is missing; the card moves only when the server says yes
   (the columns are then reloaded with their new totals). No framework. */
(function () {
  "use strict";

  var OPEN = ["prospecting", "qualification", "needs_analysis", "proposal", "negotiation"];
  var FORWARD = {
    prospecting: "qualify", qualification: "analyse_needs", needs_analysis: "propose",
    proposal: "negotiate", negotiation: "win"
  };
  var INPUTS = { propose: ["needs_analysis"], lose: ["lost_reason", "lost_competitor"], move_back: ["reason"] };
  var ASK_FIRST = { lose: true, move_back: true };

  var root = document.getElementById("board-root");
  if (!root) return;
  var labels = JSON.parse(document.getElementById("board-move-labels").textContent);
  var modalEl = document.getElementById("board-modal");
  var form = document.getElementById("board-modal-form");
  var modal = window.bootstrap ? window.bootstrap.Modal.getOrCreateInstance(modalEl) : null;
  var pending = null; // {card, transition}

  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function notice(text, kind) {
    var old = document.getElementById("board-notice");
    if (old) old.remove();
    var el = document.createElement("div");
    el.id = "board-notice";
    el.className = "alert alert-" + (kind || "danger") + " alert-dismissible fade show";
    el.setAttribute("role", kind === "success" ? "status" : "alert");
    el.textContent = text;
    var close = document.createElement("button");
    close.type = "button"; close.className = "btn-close"; close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", document.body.getAttribute("data-close-text") || "Close");
    el.appendChild(close);
    root.parentNode.insertBefore(el, root);
  }

  function transitionFor(card, target) {
    var from = card.getAttribute("data-stage");
    if (target === from) return null;
    if (target === "lost") return "lose";
    if (target === "won") return from === "negotiation" ? "win" : "";
    var i = OPEN.indexOf(from), j = OPEN.indexOf(target);
    if (j === i + 1) return FORWARD[from];
    if (j === i - 1) return "move_back";
    return "";
  }

  function reload() {
    return fetch(window.location.href, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var board = document.getElementById("board");
        var tmp = document.createElement("div");
        tmp.innerHTML = html.trim();
        var fresh = tmp.querySelector("#board");
        if (board && fresh) board.replaceWith(fresh);
      });
  }

  function resetModal() {
    form.querySelectorAll("[data-input]").forEach(function (box) {
      box.classList.add("d-none");
      var input = box.querySelector("input, textarea");
      input.classList.remove("is-invalid");
      box.querySelector(".invalid-feedback").textContent = "";
    });
    var missing = document.getElementById("board-modal-missing");
    missing.classList.add("d-none");
    missing.querySelector("ul").innerHTML = "";
  }

  function openModal(card, transition, errors) {
    resetModal();
    pending = { card: card, transition: transition };
    document.getElementById("board-modal-title").textContent = labels[transition] || transition;
    document.getElementById("board-modal-deal").textContent = card.getAttribute("data-name");
    var link = document.getElementById("board-modal-open");
    link.href = card.getAttribute("data-url");
    var wanted = INPUTS[transition] || [];
    var missing = [];
    errors = errors || {};
    Object.keys(errors).forEach(function (field) {
      if (wanted.indexOf(field) === -1) missing = missing.concat(errors[field]);
    });
    wanted.forEach(function (field) {
      var box = form.querySelector('[data-input="' + field + '"]');
      box.classList.remove("d-none");
      if (errors[field]) {
        box.querySelector("input, textarea").classList.add("is-invalid");
        box.querySelector(".invalid-feedback").textContent = errors[field].join(" ");
      }
    });
    var list = document.getElementById("board-modal-missing");
    if (missing.length) {
      missing.forEach(function (text) {
        var li = document.createElement("li"); li.textContent = text; list.querySelector("ul").appendChild(li);
      });
      list.classList.remove("d-none");
    }
    // Only missing requirements (nothing to type here): offer the deal page instead of "Move".
    var canSubmit = wanted.length > 0 && missing.length === 0;
    document.getElementById("board-modal-submit").classList.toggle("d-none", !canSubmit);
    link.classList.toggle("d-none", canSubmit);
    if (modal) modal.show();
    var first = form.querySelector("[data-input]:not(.d-none) input, [data-input]:not(.d-none) textarea");
    if (first) modalEl.addEventListener("shown.bs.modal", function f() { first.focus(); modalEl.removeEventListener("shown.bs.modal", f); });
  }

  function move(card, transition, inputs) {
    if (!transition) { notice(root.getAttribute("data-msg-one-step"), "warning"); return; }
    if (!inputs && ASK_FIRST[transition]) { openModal(card, transition, {}); return; }
    var body = new FormData();
    Object.keys(inputs || {}).forEach(function (k) { body.append(k, inputs[k]); });
    var url = root.getAttribute("data-transition-url")
      .replace("/0/", "/" + card.getAttribute("data-id") + "/").replace("__move__", transition);
    card.classList.add("busy");
    fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Accept": "application/json" }
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
    }).then(function (res) {
      card.classList.remove("busy");
      if (res.status === 200 && res.data.ok) {
        if (modal) modal.hide();
        pending = null;
        return reload().then(function () { notice(res.data.message, "success"); });
      }
      if ((res.status === 400 || res.status === 409) && res.data.errors) { openModal(card, transition, res.data.errors); return; }
      if (modal) modal.hide();
      notice(res.data.message || root.getAttribute("data-msg-failed"));
    }).catch(function () {
      card.classList.remove("busy");
      notice(root.getAttribute("data-msg-failed"));
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!pending) return;
    var inputs = {};
    (INPUTS[pending.transition] || []).forEach(function (field) {
      inputs[field] = form.querySelector('[name="' + field + '"]').value;
    });
    move(pending.card, pending.transition, inputs);
  });
  modalEl.addEventListener("hidden.bs.modal", function () { form.reset(); });

  // Drag and drop (HTML5), delegated so that reloaded columns keep working.
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".board-card");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-id"));
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    document.querySelectorAll(".drop-ok").forEach(function (el) { el.classList.remove("drop-ok"); });
  });
  document.addEventListener("dragover", function (event) {
    var zone = event.target.closest && event.target.closest("[data-drop-stage]");
    if (!zone || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    zone.classList.add("drop-ok");
  });
  document.addEventListener("dragleave", function (event) {
    var zone = event.target.closest && event.target.closest("[data-drop-stage]");
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("drop-ok");
  });
  document.addEventListener("drop", function (event) {
    var zone = event.target.closest && event.target.closest("[data-drop-stage]");
    if (!zone || !dragged) return;
    event.preventDefault();
    zone.classList.remove("drop-ok");
    var card = dragged;
    dragged = null;
    var transition = transitionFor(card, zone.getAttribute("data-drop-stage"));
    if (transition === null) return;
    move(card, transition);
  });

  // The card's move menu: the same moves without dragging (phones, keyboards).
  document.addEventListener("click", function (event) {
    var item = event.target.closest && event.target.closest("[data-move]");
    if (!item) return;
    var card = item.closest(".board-card");
    if (card) move(card, item.getAttribute("data-move"));
  });
})();
