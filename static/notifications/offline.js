// Keeps the offline page on this phone: registers the service worker (/sw.js) and tells
// it, on every page, whom the page is for, so that it keeps the offline page of the
// person signed in now (their hub's numbers) and drops one kept for someone else.
// Signing out drops it at once (a shared phone). No inline script: the
// Content-Security-Policy forbids it.
//
// The page provides:
//   <meta name="offline-page" data-for="<user id or empty>" data-logout="<sign-out path>">
"use strict";

(function () {
  const meta = document.querySelector('meta[name="offline-page"]');
  if (!meta || !("serviceWorker" in navigator) || !window.isSecureContext) {
    return;
  }
  const who = meta.getAttribute("data-for") || "";
  const logoutPath = meta.getAttribute("data-logout") || "";

  function tell(message) {
    return navigator.serviceWorker.ready.then((registration) => {
      if (registration.active) {
        registration.active.postMessage(message);
      }
    });
  }

  navigator.serviceWorker
    .register("/sw.js", { scope: "/" })
    .then(() => tell({ type: "offline-page", who }))
    .catch(() => {});

  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || !logoutPath) {
        return;
      }
      let path = "";
      try {
        path = new URL(form.action, window.location.href).pathname;
      } catch (error) {
        return;
      }
      if (path === logoutPath) {
        tell({ type: "forget" }).catch(() => {});
      }
    },
    true
  );
})();
