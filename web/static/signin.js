// The sign-in page: while the password field is in use with Caps Lock on, a message under it
// says so, because passwords are case-sensitive and a few wrong ones lock the account. The
// message is text on the page, tied to the field (aria-describedby) and in a live region, so a
// screen reader hears it too; nothing pops up. Without JavaScript the form works the same.
(function () {
  "use strict";
  var field = document.getElementById("password");
  if (!field) {
    return;
  }
  // The region exists, empty, before anything is said in it: screen readers announce changes
  // to a live region they already know, not one that appears with its text.
  var warning = document.createElement("p");
  warning.id = "password-capslock";
  warning.className = "capslock-warning";
  warning.setAttribute("role", "status");
  field.insertAdjacentElement("afterend", warning);
  var described = field.getAttribute("aria-describedby");
  field.setAttribute("aria-describedby", (described ? described + " " : "") + warning.id);

  var on = false;
  function show(capsLock) {
    if (capsLock === on) {
      return;
    }
    on = capsLock;
    warning.textContent = on ? "Caps Lock is on. Passwords are case-sensitive." : "";
  }
  function check(event) {
    if (typeof event.getModifierState === "function") {
      show(event.getModifierState("CapsLock"));
    }
  }
  // keyup too: pressing Caps Lock itself reports its new state on keyup in some browsers.
  field.addEventListener("keydown", check);
  field.addEventListener("keyup", check);
  field.addEventListener("mousedown", check);
  field.addEventListener("blur", function () {
    show(false);
  });
})();
