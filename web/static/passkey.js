// passkey.js drives passkeys, which browsers offer to JavaScript alone: adding one on the
// security settings page (#passkey-register) and using one for the second step of signing in
// (#passkey-login). It fetches the options from the server, asks the browser for the passkey,
// and posts the answer in the page's ordinary form (#passkey-form). The wording it shows
// comes from the page's data- attributes; every other flow on these pages works without it.
(function () {
  'use strict';

  var box = document.getElementById('passkey-register') || document.getElementById('passkey-login');
  if (!box) {
    return;
  }
  var registering = box.id === 'passkey-register';
  var form = document.getElementById('passkey-form');
  var button = document.getElementById('passkey-button');
  var error = document.getElementById('passkey-error');
  var nojs = document.getElementById('passkey-nojs');

  if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) {
    nojs.textContent = box.dataset.unsupported;
    return;
  }
  nojs.hidden = true;
  button.hidden = false;

  function fromBase64url(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) {
      s += '=';
    }
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function toBase64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = '';
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // serverError is a refusal the server worded (its JSON error body).
  function serverError(body) {
    var e = new Error(body.message);
    e.name = 'ServerError';
    e.code = body.error;
    return e;
  }

  // options asks the server for the ceremony's options: a same-origin POST, which the
  // server's cross-origin protection lets through.
  async function options() {
    var r = await fetch(box.dataset.options, {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Accept': 'application/json' }
    });
    var body = null;
    try {
      body = await r.json();
    } catch (e) {
      // not JSON: answered below as a failure
    }
    if (!r.ok || !body || !body.options) {
      throw body && body.message ? serverError(body) : new Error('status ' + r.status);
    }
    return body;
  }

  // credentialJSON is the browser's answer as the server parses it: the parts every passkey
  // answer has, around the response of its ceremony.
  function credentialJSON(cred, response) {
    return {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults(),
      response: response
    };
  }

  async function create(pk) {
    pk.challenge = fromBase64url(pk.challenge);
    pk.user.id = fromBase64url(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = fromBase64url(c.id); });
    var cred = await navigator.credentials.create({ publicKey: pk });
    var resp = cred.response;
    return credentialJSON(cred, {
      clientDataJSON: toBase64url(resp.clientDataJSON),
      attestationObject: toBase64url(resp.attestationObject),
      transports: resp.getTransports ? resp.getTransports() : []
    });
  }

  async function get(pk) {
    pk.challenge = fromBase64url(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = fromBase64url(c.id); });
    var cred = await navigator.credentials.get({ publicKey: pk });
    var resp = cred.response;
    return credentialJSON(cred, {
      clientDataJSON: toBase64url(resp.clientDataJSON),
      authenticatorData: toBase64url(resp.authenticatorData),
      signature: toBase64url(resp.signature),
      userHandle: resp.userHandle ? toBase64url(resp.userHandle) : undefined
    });
  }

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
  }

  // failed tells the user what went wrong. A refusal that a page explains better (signed
  // out, sign-in expired, settings closed) opens the page again (data-page: the address may
  // be a form's answer), which then says why or where to go.
  function failed(e) {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    if (e.name === 'ServerError') {
      if (['unauthorized', 'session_expired', 'signed_in_elsewhere', 'action_required'].indexOf(e.code) >= 0) {
        window.location.assign(box.dataset.page);
        return;
      }
      if (e.code === 'reauth_required') {
        window.location.assign(box.dataset.page + '?notice=reauth');
        return;
      }
      showError(e.message);
    } else if (e.name === 'NotAllowedError' || e.name === 'AbortError') {
      showError(box.dataset.cancelled);
    } else if (e.name === 'InvalidStateError' && registering) {
      showError(box.dataset.exists);
    } else {
      showError(box.dataset.failed);
    }
  }

  button.addEventListener('click', async function () {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    error.hidden = true;
    error.textContent = '';
    try {
      var body = await options();
      var answer = registering ? await create(body.options.publicKey) : await get(body.options.publicKey);
      document.getElementById('passkey-credential').value = JSON.stringify(answer);
      if (registering) {
        document.getElementById('passkey-state').value = body.state;
      } else {
        var remember = document.getElementById('remember');
        document.getElementById('passkey-remember').value = remember && remember.checked ? 'yes' : '';
      }
      form.submit();
    } catch (e) {
      failed(e);
    }
  });
})();
