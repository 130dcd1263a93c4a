/* salesctl UI shell: small behaviours on top of Bootstrap and htmx. No framework. */
(function () {
  "use strict";

  // Django wants the CSRF token on every unsafe htmx request. <body hx-headers> carries it; the
  // cookie is the fallback for fragments rendered without a token (CSRF_COOKIE_HTTPONLY is off).
  function csrfFromCookie() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var headers = event.detail.headers;
    if (!headers["X-CSRFToken"]) {
      var token = csrfFromCookie();
      if (token) headers["X-CSRFToken"] = token;
    }
  });

  // A failed htmx request must not fail silently: show a dismissible alert with the
  // (translated) text the server put on <body data-error-text>.
  function showError() {
    var text = document.body.getAttribute("data-error-text") || "Error";
    var main = document.getElementById("main");
    if (!main || document.getElementById("htmx-error")) return;
    var alert = document.createElement("div");
    alert.id = "htmx-error";
    alert.className = "alert alert-danger alert-dismissible fade show";
    alert.setAttribute("role", "alert");
    alert.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", document.body.getAttribute("data-close-text") || "Close");
    alert.appendChild(close);
    main.insertBefore(alert, main.firstChild);
  }
  document.addEventListener("htmx:responseError", showError);
  document.addEventListener("htmx:sendError", showError);

  // Success notices fade away after a while; errors and warnings stay until dismissed.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".app-messages .alert-success, .app-messages .alert-info").forEach(function (el) {
      window.setTimeout(function () {
        if (window.bootstrap && document.body.contains(el)) {
          window.bootstrap.Alert.getOrCreateInstance(el).close();
        }
      }, 6000);
    });
  });
})();
