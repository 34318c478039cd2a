/* The editorial navigation (editorial/_nav.html): on a desk each group opens as a menu; on a phone the "Menu"
   button shows the groups stacked. One group open at a time; Escape or a click elsewhere closes it. */
(function () {
  "use strict";
  function setOpen(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    var target = document.getElementById(button.getAttribute("aria-controls"));
    if (target) { target.classList.toggle("open", open); }
  }
  function closeGroups(except) {
    document.querySelectorAll(".nav-group-toggle[aria-expanded=true]").forEach(function (b) {
      if (b !== except) { setOpen(b, false); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var nav = document.querySelector(".mainnav");
    if (!nav) { return; }
    nav.classList.add("js");
    var menu = nav.querySelector(".nav-toggle");
    if (menu) {
      menu.addEventListener("click", function () { setOpen(menu, menu.getAttribute("aria-expanded") !== "true"); });
    }
    nav.querySelectorAll(".nav-group-toggle").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.stopPropagation();
        var open = button.getAttribute("aria-expanded") !== "true";
        closeGroups(button);
        setOpen(button, open);
      });
    });
    document.addEventListener("click", function (event) {
      if (!nav.contains(event.target)) { closeGroups(null); }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { closeGroups(null); }
    });
  });
})();
