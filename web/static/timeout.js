// timeout.js warns before the session times out (WCAG 2.2.1 Timing Adjustable). The page's
// #session-timeout line carries, by the server's clock, when the page was made (data-now), when
// the session times out if nothing is done (data-idle-at) and when it ends at the latest
// (data-end-at). data-warn-ms before the first of these, the dialog in base.html (where all
// its words are) opens: "Stay signed in" posts to data-extend and moves the deadline, "Sign
// out" posts to the dialog's data-signout, as the sign-out form does. Near the absolute end
// it says that end cannot be moved. If nothing is done, the dialog says the session ended,
// and the page goes to the sign-in page (data-signin), unless something typed here is
// unsaved: then it stays, so it can be copied. Without this script nothing happens by itself,
// and the next request says the session timed out. Tabs of the same session tell each other
// when one of them extends it.
(function () {
  'use strict';

  var line = document.getElementById('session-timeout');
  var dialog = document.getElementById('timeout-dialog');
  if (!line || !dialog || typeof dialog.showModal !== 'function' || !window.fetch || !window.JSON) {
    return;
  }
  var data = line.dataset;
  var warnMS = Number(data.warnMs) || 120000;
  var stayButton = document.getElementById('timeout-stay');
  var continueButton = document.getElementById('timeout-continue');
  var signIn = document.getElementById('timeout-signin');
  var failed = document.getElementById('timeout-failed');
  var kept = document.getElementById('timeout-kept');
  var storeKey = 'hmisauth-timeout:' + data.extend;

  // The deadlines in this browser's Date.now() terms: the server's instants shifted by the
  // difference of the two clocks, so a browser whose clock is wrong still warns on time.
  var idle = 0;
  var end = 0;
  var state = '';          // '' (no dialog), 'idle', 'end' or 'ended'
  var endDismissed = false; // "Continue working" was pressed near the absolute end
  var dirty = false;        // something typed on the page and not submitted
  var busy = false;
  var timer = 0;

  function setDeadlines(t) {
    var shift = Date.now() - Date.parse(t.now);
    idle = Date.parse(t.idle_at) + shift;
    end = Date.parse(t.end_at) + shift;
  }

  // decode turns the server's HTML-escaped line into its text, in an inert template.
  function decode(html) {
    var tpl = document.createElement('template');
    tpl.innerHTML = html;
    return tpl.content.textContent;
  }

  function setWords(lineText, idleText, endText) {
    line.textContent = lineText;
    Array.prototype.forEach.call(dialog.querySelectorAll('.timeout-idle-time'), function (el) {
      el.textContent = idleText;
    });
    Array.prototype.forEach.call(dialog.querySelectorAll('.timeout-end-time'), function (el) {
      el.textContent = endText;
    });
  }

  function words() {
    var i = dialog.querySelector('.timeout-idle-time');
    var e = dialog.querySelector('.timeout-end-time');
    return { line: line.textContent, idle: i ? i.textContent : '', end: e ? e.textContent : '' };
  }

  // publish tells the session's other tabs its deadline and words.
  function publish() {
    try {
      localStorage.setItem(storeKey, JSON.stringify({ idle: idle, end: end, words: words() }));
    } catch (e) {
      // Storage may be off (a private window): each tab then keeps its own time.
    }
  }

  // adopt takes another tab's later deadline of the same session (the same absolute end).
  function adopt(raw) {
    var v;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      return false;
    }
    if (!v || typeof v.idle !== 'number' || Math.abs(v.end - end) > 2000 || v.idle <= idle + 1000) {
      return false;
    }
    idle = v.idle;
    if (v.words) {
      setWords(v.words.line, v.words.idle, v.words.end);
    }
    return true;
  }

  function show(kind) {
    ['idle', 'end', 'ended'].forEach(function (k) {
      document.getElementById('timeout-' + k).hidden = k !== kind;
    });
    dialog.setAttribute('aria-labelledby', 'timeout-' + kind + '-title');
    dialog.setAttribute('aria-describedby', 'timeout-' + kind + '-text');
    failed.hidden = true;
    if (dialog.open) {
      // Opened anew, so a screen reader announces the new heading and words.
      dialog.close();
    }
    state = kind;
    dialog.showModal();
    ({ idle: stayButton, end: continueButton, ended: signIn })[kind].focus();
  }

  function hide() {
    state = '';
    if (dialog.open) {
      dialog.close();
    }
  }

  function ended() {
    clearInterval(timer);
    kept.hidden = !dirty;
    show('ended');
    if (!dirty) {
      // A moment to read it; the sign-in page says the session timed out as well.
      setTimeout(function () {
        if (!dirty) {
          window.location.assign(data.signin);
        }
      }, 2000);
    }
  }

  function tick() {
    if (state === 'ended') {
      return;
    }
    var now = Date.now();
    var first = Math.min(idle, end);
    if (now >= first) {
      ended();
    } else if (now >= first - warnMS) {
      var kind = end <= idle ? 'end' : 'idle';
      if (state !== kind && !(kind === 'end' && endDismissed)) {
        show(kind);
      }
    } else if (state === 'idle') {
      hide(); // another tab stayed signed in
    }
  }

  function stay() {
    if (busy) {
      return;
    }
    busy = true;
    failed.hidden = true;
    fetch(data.extend, {
      method: 'POST', credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' }
    }).then(function (r) {
      if (r.status === 401) {
        ended(); // timed out already, or signed out elsewhere
        return;
      }
      if (!r.ok) {
        throw new Error('status ' + r.status);
      }
      return r.json().then(function (t) {
        setDeadlines(t);
        line.dataset.now = t.now;
        line.dataset.idleAt = t.idle_at;
        line.dataset.endAt = t.end_at;
        setWords(decode(t.line), t.idle, t.end);
        publish();
        hide();
        tick();
      });
    }).catch(function () {
      failed.hidden = false;
      if (!dialog.open) {
        dialog.showModal();
      }
    }).then(function () {
      busy = false;
    });
  }

  setDeadlines({ now: data.now, idle_at: data.idleAt, end_at: data.endAt });
  try {
    adopt(localStorage.getItem(storeKey));
  } catch (e) {
    // no storage: see publish
  }
  publish();

  stayButton.addEventListener('click', stay);
  // "Sign out" is the sign-out form's POST, made when it is pressed.
  Array.prototype.forEach.call(dialog.querySelectorAll('.timeout-signout'), function (button) {
    button.addEventListener('click', function () {
      var form = document.createElement('form');
      form.method = 'post';
      form.action = dialog.dataset.signout;
      document.body.appendChild(form);
      form.submit();
    });
  });
  continueButton.addEventListener('click', function () {
    endDismissed = true;
    hide();
  });
  // Escape: stay signed in when that is the question; otherwise just close.
  dialog.addEventListener('cancel', function (e) {
    if (state === 'idle') {
      e.preventDefault();
      stay();
    } else if (state === 'end') {
      endDismissed = true;
      state = '';
    }
  });
  document.addEventListener('input', function (e) {
    if (e.target.form && !dialog.contains(e.target)) {
      dirty = true;
    }
  }, true);
  document.addEventListener('submit', function () {
    dirty = false;
  }, true);
  window.addEventListener('storage', function (e) {
    if (e.key === storeKey && state !== 'ended' && adopt(e.newValue)) {
      tick();
    }
  });
  // Timers sleep in hidden tabs and on a closed laptop: check as soon as the page is back.
  document.addEventListener('visibilitychange', tick);
  timer = setInterval(tick, 1000);
  tick();
}());
