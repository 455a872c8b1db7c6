// Mockingbird's service worker: shows web push notifications and opens the page
// they are about, and keeps an offline page on the phone with the numbers to call,
// shown when a page cannot load for lack of network. Served at /sw.js so that its
// scope is the whole site.
"use strict";

// --- the offline page ---------------------------------------------------------------
// Two copies are kept: the page of whoever is signed in on this browser (their hub's
// numbers and their service's out-of-hours number), kept again on every visit once it
// is FRESH_FOR old or when someone else signs in, and dropped at sign-out (a shared
// phone); and the page for anyone (999), kept at install. The stylesheets they link
// are kept with them. Nothing here ever holds a child's record.
const OFFLINE_CACHE = "mockingbird-offline-v1";
const OFFLINE_URL = "/offline/";
const ANYONE_URL = "/offline/?for=anyone";
const FRESH_FOR = 10 * 60 * 1000;
const FOR_HEADER = "X-Offline-For";
const SAVED_HEADER = "X-Offline-Saved";

// The last resort, if neither copy could be kept.
const BARE_PAGE =
  '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">' +
  '<meta name="viewport" content="width=device-width, initial-scale=1">' +
  "<title>No connection · Mockingbird</title></head><body>" +
  "<h1>You are offline</h1><p>This phone cannot reach Mockingbird just now.</p>" +
  '<p><strong>In an emergency call <a href="tel:999">999</a>.</strong></p>' +
  '<p><a href="">Try again</a></p></body></html>';

function stylesheetsOf(html) {
  const found = [];
  const links = html.match(/<link\b[^>]*>/gi) || [];
  for (const link of links) {
    const rel = link.match(/\brel="([^"]*)"/i);
    const href = link.match(/\bhref="([^"]*)"/i);
    if (rel && href && rel[1].toLowerCase() === "stylesheet") {
      const url = new URL(href[1].replace(/&amp;/g, "&"), self.location.origin);
      if (url.origin === self.location.origin) {
        found.push(url.href);
      }
    }
  }
  return found;
}

// Fetches the offline page (as the signed-in person, or as anyone) and keeps it under
// `key` with the moment it was kept, then the stylesheets it links.
async function keepPage(cache, key, credentials) {
  const response = await fetch(OFFLINE_URL, { credentials, cache: "no-store" });
  if (!response.ok || response.redirected) {
    // A sign-in step stands in the way (a second factor to enrol): keep nothing.
    throw new Error("the offline page could not be fetched: " + response.status);
  }
  const html = await response.text();
  const headers = new Headers(response.headers);
  headers.delete("Vary");
  headers.set(SAVED_HEADER, String(Date.now()));
  if (credentials === "omit") {
    headers.set(FOR_HEADER, "");
  }
  await cache.put(key, new Response(html, { status: 200, headers }));
  await Promise.all(
    stylesheetsOf(html).map(async (href) => {
      const sheet = await fetch(href, { credentials: "same-origin" });
      if (sheet.ok) {
        await cache.put(href, sheet);
      }
    })
  );
}

// Changes to the kept page run one after another, in the order the pages asked, so a
// slow answer for whoever was signed in before never lands after a newer one.
let offlineQueue = Promise.resolve();

function inTurn(task) {
  const run = offlineQueue.then(task, task);
  offlineQueue = run.catch(() => {});
  return run;
}

// Called by every page (static/notifications/offline.js) with whom it is for: the
// signed-in person's id, or "" for anyone.
async function refreshOfflinePage(who) {
  const cache = await caches.open(OFFLINE_CACHE);
  const kept = await cache.match(OFFLINE_URL, { ignoreVary: true });
  if (kept) {
    const keptFor = kept.headers.get(FOR_HEADER) || "";
    const age = Date.now() - Number(kept.headers.get(SAVED_HEADER) || 0);
    if (keptFor === who && age >= 0 && age < FRESH_FOR) {
      return;
    }
    if (keptFor !== who) {
      // Never show one person's numbers to another, even if the new page fails.
      await cache.delete(OFFLINE_URL, { ignoreVary: true });
    }
  }
  await keepPage(cache, OFFLINE_URL, "same-origin");
}

async function forgetOfflinePage() {
  const cache = await caches.open(OFFLINE_CACHE);
  await cache.delete(OFFLINE_URL, { ignoreVary: true });
}

async function offlinePage() {
  const cache = await caches.open(OFFLINE_CACHE);
  const kept =
    (await cache.match(OFFLINE_URL, { ignoreVary: true })) ||
    (await cache.match(ANYONE_URL, { ignoreVary: true }));
  if (kept) {
    return kept;
  }
  return new Response(BARE_PAGE, {
    status: 200,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
  });
}

self.addEventListener("install", (event) => {
  self.skipWaiting();
  event.waitUntil(
    (async () => {
      const cache = await caches.open(OFFLINE_CACHE);
      // A page that cannot be kept now is kept at the next visit: push must still work.
      await inTurn(() =>
        Promise.allSettled([
          keepPage(cache, ANYONE_URL, "omit"),
          keepPage(cache, OFFLINE_URL, "same-origin"),
        ])
      );
    })()
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith("mockingbird-offline-") && name !== OFFLINE_CACHE)
          .map((name) => caches.delete(name))
      );
      if (self.registration.navigationPreload) {
        // The page's request starts while the worker wakes up: no delay online.
        await self.registration.navigationPreload.enable();
      }
      await self.clients.claim();
    })()
  );
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "offline-page") {
    const who = String(data.who || "");
    event.waitUntil(inTurn(() => refreshOfflinePage(who)).catch(() => {}));
  } else if (data.type === "forget") {
    event.waitUntil(inTurn(forgetOfflinePage));
  }
});

async function navigate(event) {
  try {
    const preloaded = await event.preloadResponse;
    if (preloaded) {
      return preloaded;
    }
    return await fetch(event.request);
  } catch (error) {
    // No network (a server's error page is shown as it is).
    return offlinePage();
  }
}

async function stylesheet(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const cache = await caches.open(OFFLINE_CACHE);
    const kept = await cache.match(request, { ignoreVary: true });
    if (kept) {
      return kept;
    }
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(navigate(event));
  } else if (request.destination === "style" && url.pathname.startsWith("/static/")) {
    event.respondWith(stylesheet(request));
  }
});

// --- web push -----------------------------------------------------------------------

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
