// Forms that come back with errors (the error summary, base.html's "errors"): focus moves to
// the summary, so a screen reader reads "There is a problem" and the list first, and a
// keyboard user starts from it, as GOV.UK and USWDS do. A link in the summary puts the cursor
// in its field with the field's label in view, not only scrolls to it. Without JavaScript the
// summary is still the first thing after the page's heading, and its links still scroll.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary[tabindex]");
  if (!summary) {
    return;
  }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) {
      return;
    }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field || typeof field.focus !== "function") {
      return;
    }
    event.preventDefault();
    var label = document.querySelector("label[for='" + field.id + "']");
    (label || field).scrollIntoView();
    field.focus({ preventScroll: true });
  });
})();
