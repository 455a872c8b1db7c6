// Mockingbird's service worker: shows web push notifications and opens the page
// they are about. Served at /sw.js so that its scope is the whole site.
"use strict";

self.addEventListener("install", () => {
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

// Only a path of this site is ever opened from a notification.
function siteUrl(url) {
  try {
    const target = new URL(url || "/", self.location.origin);
    return target.origin === self.location.origin ? target.href : self.location.origin + "/";
  } catch (error) {
    return self.location.origin + "/";
  }
}

self.addEventListener("push", (event) => {
  let data = {};
  if (event.data) {
    try {
      data = event.data.json();
    } catch (error) {
      data = { body: event.data.text() };
    }
  }
  const urgent = Boolean(data.urgent);
  const options = {
    body: data.body || "",
    lang: "en-GB",
    data: { url: siteUrl(data.url) },
    // An urgent alert (a crisis) stays on screen until the person acts on it.
    requireInteraction: urgent,
  };
  if (data.tag) {
    options.tag = String(data.tag);
    // The same alert sent again (an escalation) alerts again, not silently.
    options.renotify = urgent;
  }
  if (urgent) {
    options.vibrate = [300, 100, 300, 100, 300];
  }
  event.waitUntil(self.registration.showNotification(data.title || "Mockingbird", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = siteUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const ours = windows.filter((client) => new URL(client.url).origin === self.location.origin);
      const same = ours.find((client) => client.url === url);
      if (same) {
        return same.focus();
      }
      if (ours.length > 0) {
        const client = ours[0];
        try {
          const focused = await client.focus();
          if ("navigate" in focused) {
            return await focused.navigate(url);
          }
          return focused;
        } catch (error) {
          // An uncontrolled tab cannot be navigated: open a new one instead.
        }
      }
      return self.clients.openWindow(url);
    })()
  );
});
