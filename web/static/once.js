// once.js keeps a form from being sent twice by a double click or an impatient second press:
// after a form is sent, its submit buttons are disabled while the next page loads. The server
// does not rely on it: a form that creates something or shows a secret carries a one-time
// token (web/formtoken.go), and a second sending shows what the first did. Without this
// script the token still protects; with it, people do not even see that answer.
(function () {
  "use strict";

  // How long the buttons stay disabled if no new page comes (the sending was stopped, or a
  // download was the answer): then the form may be sent again.
  var waitMS = 10000;

  function buttons(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return (el.tagName === "BUTTON" && el.type === "submit") || (el.tagName === "INPUT" && el.type === "submit");
    });
  }

  function enable(form) {
    delete form.dataset.sending;
    buttons(form).forEach(function (b) { b.disabled = false; });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") {
      return;
    }
    if (form.dataset.sending) {
      event.preventDefault();
      return;
    }
    // Decided once every listener has had the event, and the browser has read the form: a
    // script that took the form over (and stopped the sending) leaves it alone, and a button
    // disabled sooner would not send its own name and value (step=create).
    window.setTimeout(function () {
      if (event.defaultPrevented) {
        return;
      }
      form.dataset.sending = "yes";
      buttons(form).forEach(function (b) { b.disabled = true; });
      window.setTimeout(function () { enable(form); }, waitMS);
    }, 0);
  });

  // Back to a page kept in the browser's memory: its forms may be used again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      Array.prototype.forEach.call(document.forms, enable);
    }
  });
})();
