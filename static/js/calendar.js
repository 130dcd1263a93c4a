/* Visit pages: the week calendar (drag a plan to another day, one day at a time on a phone),
   the customer/lead picker of the plan form, and the visit form's check-in. No framework. */
(function () {
  "use strict";

  function csrf() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- week calendar: one day at a time on narrow screens -------------------------------
  var week = document.getElementById("calendar-week");
  if (week) {
    var days = Array.prototype.slice.call(week.querySelectorAll(".cal-day"));
    var label = document.getElementById("day-label");
    var index = Math.max(0, days.findIndex(function (d) { return d.classList.contains("is-focus"); }));
    function show(i) {
      index = Math.min(days.length - 1, Math.max(0, i));
      days.forEach(function (d, j) { d.classList.toggle("is-focus", j === index); });
      if (label) label.textContent = days[index].getAttribute("data-label");
      var prev = document.getElementById("day-prev"), next = document.getElementById("day-next");
      if (prev) prev.disabled = index === 0;
      if (next) next.disabled = index === days.length - 1;
    }
    document.querySelectorAll("[data-day-step]").forEach(function (button) {
      button.addEventListener("click", function () {
        show(index + parseInt(button.getAttribute("data-day-step"), 10));
      });
    });
    show(index);

    // --- drag a plan to another day (HTML5 drag and drop → POST plan_move) ---------------
    var alertBox = document.getElementById("calendar-alert");
    function refuse(message) {
      if (!alertBox) return;
      alertBox.textContent = message || week.getAttribute("data-refused-text");
      alertBox.classList.remove("d-none");
    }
    var dragged = null;
    week.addEventListener("dragstart", function (event) {
      var card = event.target.closest && event.target.closest(".cal-plan[draggable=true]");
      if (!card) return;
      dragged = card;
      card.classList.add("is-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.getAttribute("data-plan"));
    });
    week.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("is-dragging");
      days.forEach(function (d) { d.classList.remove("is-drop"); });
    });
    days.forEach(function (day) {
      day.addEventListener("dragover", function (event) {
        if (!dragged) return;
        event.preventDefault(); // allow the drop: a refused day answers with a message
        event.dataTransfer.dropEffect = "move";
        day.classList.add("is-drop");
      });
      day.addEventListener("dragleave", function () { day.classList.remove("is-drop"); });
      day.addEventListener("drop", function (event) {
        event.preventDefault();
        day.classList.remove("is-drop");
        var card = dragged;
        dragged = null;
        if (!card) return;
        card.classList.remove("is-dragging");
        var list = day.querySelector(".cal-plans");
        var origin = card.parentNode, after = card.nextSibling;
        if (card.closest(".cal-day") === day) return;
        list.appendChild(card); // optimistic; snaps back if refused
        var body = new URLSearchParams();
        body.set("planned_date", day.getAttribute("data-date"));
        fetch(card.getAttribute("data-move-url"), {
          method: "POST",
          headers: { "X-CSRFToken": csrf(), "Accept": "application/json",
                     "Content-Type": "application/x-www-form-urlencoded" },
          credentials: "same-origin",
          body: body.toString()
        }).then(function (response) {
          return response.json().then(function (data) { return { ok: response.ok, data: data }; });
        }).then(function (result) {
          if (result.ok && result.data.ok) {
            window.location.reload(); // the server renumbered both days' routes
          } else {
            origin.insertBefore(card, after);
            refuse(result.data.message);
          }
        }).catch(function () {
          origin.insertBefore(card, after);
          refuse("");
        });
      });
    });
  }

  // --- plan form: pick a customer or lead from the search results ---------------------
  var options = document.getElementById("target-options");
  if (options) {
    options.addEventListener("click", function (event) {
      var item = event.target.closest("[data-pick-kind]");
      if (!item) return;
      var kind = item.getAttribute("data-pick-kind");
      var form = item.closest("form");
      form.querySelector("input[name=customer]").value = kind === "customer" ? item.getAttribute("data-pick-id") : "";
      form.querySelector("input[name=lead]").value = kind === "lead" ? item.getAttribute("data-pick-id") : "";
      document.getElementById("target-chosen-name").textContent = item.getAttribute("data-pick-name");
      document.getElementById("target-chosen-kind").textContent = options.getAttribute("data-kind-" + kind);
      document.getElementById("target-chosen").classList.remove("d-none");
      options.innerHTML = "";
      var search = document.getElementById("target-search");
      if (search) search.value = "";
    });
  }

  // --- visit form: check-in, only when the user taps the button (consent) ----------------
  var checkin = document.getElementById("checkin-button");
  if (checkin) {
    var box = document.getElementById("checkin");
    var status = document.getElementById("checkin-status");
    var form = checkin.closest("form");
    checkin.addEventListener("click", function () {
      if (!navigator.geolocation) {
        status.textContent = box.getAttribute("data-unsupported");
        return;
      }
      status.textContent = box.getAttribute("data-locating");
      checkin.disabled = true;
      navigator.geolocation.getCurrentPosition(function (position) {
        var c = position.coords;
        form.querySelector("input[name=latitude]").value = c.latitude.toFixed(6);
        form.querySelector("input[name=longitude]").value = c.longitude.toFixed(6);
        form.querySelector("input[name=location_accuracy_m]").value = Math.round(c.accuracy);
        status.textContent = box.getAttribute("data-done").replace("%(m)s", Math.round(c.accuracy));
        status.classList.remove("text-body-secondary");
        status.classList.add("text-success");
        checkin.disabled = false;
        checkin.setAttribute("data-checked-in", "1");
      }, function () {
        status.textContent = box.getAttribute("data-denied");
        checkin.disabled = false;
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }
})();
