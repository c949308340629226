// twinid's passkey forms (served from twinid, under the pages' CSP: no inline script).
// A form with data-webauthn="create" or "get" carries the ceremony's options (JSON, as the
// WebAuthn Level 3 JSON forms); on submit the browser's authenticator answers and the
// answer goes back in the form's "credential" field.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-webauthn]")) {
    form.addEventListener("submit", async (ev) => {
      if (form.elements.credential.value) return;
      ev.preventDefault();
      const out = form.querySelector("[data-webauthn-error]");
      try {
        const opts = JSON.parse(form.dataset.options);
        let cred;
        if (form.dataset.webauthn === "create") {
          cred = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(opts.publicKey) });
        } else {
          const req = { publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(opts.publicKey) };
          cred = await navigator.credentials.get(req);
        }
        form.elements.credential.value = JSON.stringify(cred.toJSON());
        form.submit();
      } catch (err) {
        if (out) out.textContent = "The passkey did not work: " + (err && err.message ? err.message : err);
      }
    });
  }
});
