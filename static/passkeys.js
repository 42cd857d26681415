// Passkeys (WebAuthn): "Add a passkey" and "Sign in with a passkey". The server gives the
// options (a JSON answer to a form POST with the page's token); the phone makes or uses the
// passkey; the answer goes back in the form's hidden "response" field with an ordinary submit.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) { return; }

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var binary = atob(base64), bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer), binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    (options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return options;
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    (options.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return options;
  }

  function asJSON(credential) {
    var r = credential.response;
    var out = {
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toText(r.clientDataJSON) }
    };
    if (credential.authenticatorAttachment) { out.authenticatorAttachment = credential.authenticatorAttachment; }
    if (r.attestationObject) {
      out.response.attestationObject = toText(r.attestationObject);
      if (r.getTransports) { out.response.transports = r.getTransports(); }
    } else {
      out.response.authenticatorData = toText(r.authenticatorData);
      out.response.signature = toText(r.signature);
      if (r.userHandle) { out.response.userHandle = toText(r.userHandle); }
    }
    return JSON.stringify(out);
  }

  function askOptions(form) {
    var body = new URLSearchParams();
    body.append("csrf_token", form.elements.csrf_token.value);
    if (form.elements.password) { body.append("password", form.elements.password.value); }
    return fetch(form.dataset.options, {
      method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (answer) {
      if (!answer.ok) { throw new Error("no options"); }
      return answer.json();
    });
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    var adding = form.dataset.passkey === "add";
    var problem = document.getElementById(form.dataset.problem);
    var busy = false;
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      if (form.elements.response.value) { return; }
      event.preventDefault();
      if (busy) { return; }
      busy = true;
      if (problem) { problem.hidden = true; }
      var keep = document.getElementById("keep_signed_in");
      if (!adding && keep && form.elements.keep_signed_in) {
        form.elements.keep_signed_in.value = keep.checked ? "y" : "";
      }
      askOptions(form).then(function (options) {
        return adding
          ? navigator.credentials.create({ publicKey: creationOptions(options) })
          : navigator.credentials.get({ publicKey: requestOptions(options) });
      }, function () {
        // Options refused (a wrong password, a page open too long): send the form as it is,
        // and the page that comes back says what to change, beside its field.
        return "send as it is";
      }).then(function (credential) {
        if (!credential) { throw new Error("no passkey"); }
        form.elements.response.value = credential === "send as it is" ? "-" : asJSON(credential);
        form.submit();
      }).catch(function () {
        busy = false;
        if (problem) { problem.hidden = false; }
      });
    });
  });
})();
