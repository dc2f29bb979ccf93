// copy.js puts a "Copy" button after each secret shown to be passed on (a temporary password,
// its message, an application's secret, a setup key, recovery codes): the elements marked
// data-copy, whose value names what is copied ("the temporary password"). The button copies
// the text exactly as shown (a list one item a line) and says so in a live region. Without
// this script there is no button, and the text can be selected and copied as usual.
(function () {
  "use strict";
  if (!navigator.clipboard && !document.queryCommandSupported) {
    return;
  }

  function textOf(el) {
    if (el.tagName === "TEXTAREA" || el.tagName === "INPUT") {
      return el.value;
    }
    if (el.tagName === "UL" || el.tagName === "OL") {
      return Array.prototype.map.call(el.querySelectorAll("li"), function (li) {
        return li.textContent.trim();
      }).join("\n");
    }
    return el.textContent.trim();
  }

  // copyText uses the clipboard API where the page may (https, localhost), else the older
  // command on a hidden text area.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (e) {
        ok = false;
      }
      document.body.removeChild(area);
      if (ok) {
        resolve();
      } else {
        reject(new Error("copy refused"));
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (el, i) {
    var what = el.getAttribute("data-copy") || "the text";
    var wrap = document.createElement("span");
    wrap.className = "copy";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button-secondary copy-button";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy " + what);
    var status = document.createElement("span");
    status.className = "copy-status";
    status.setAttribute("role", "status");
    status.id = "copy-status-" + i;
    wrap.appendChild(button);
    wrap.appendChild(status);
    el.insertAdjacentElement("afterend", wrap);
    button.addEventListener("click", function () {
      copyText(textOf(el)).then(function () {
        status.textContent = "Copied " + what + ".";
      }, function () {
        status.textContent = "Could not copy: select the text and copy it instead.";
      });
    });
  });
})();
