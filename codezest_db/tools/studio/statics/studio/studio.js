// The studio's additions to sqladmin's pages (served from its own origin: CSP script-src 'self').
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="studio-form-token"]');
  var token = meta ? meta.getAttribute("content") : "";

  // Requests that are not forms (the delete button's) carry the form token as a header.
  if (window.jQuery) {
    window.jQuery(document).ajaxSend(function (event, xhr) {
      xhr.setRequestHeader("X-CSRF-Token", token);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // The five schemas' groups in the sidebar start open.
    document.querySelectorAll("[data-sqladmin-menu-category]").forEach(function (item) {
      var toggle = item.querySelector(".dropdown-toggle");
      var menu = item.querySelector(".dropdown-menu");
      if (toggle && menu) {
        menu.classList.add("show");
        toggle.classList.add("show");
        toggle.setAttribute("aria-expanded", "true");
      }
    });
  });
})();
