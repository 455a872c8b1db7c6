// Turning web push on and off for this browser, on the notification preferences page.
// No inline script (the Content-Security-Policy forbids it) and no third-party code.
//
// The page provides:
//   <button type="button" data-push-enable data-vapid-key="..." data-subscribe-url="...">
//   <button type="button" data-push-disable data-unsubscribe-url="...">
//   <p data-push-status role="status"></p>
"use strict";

(function () {
  const enableButton = document.querySelector("[data-push-enable]");
  const disableButton = document.querySelector("[data-push-disable]");
  if (!enableButton && !disableButton) {
    return;
  }
  const statusBox = document.querySelector("[data-push-status]");

  function attribute(name) {
    const holder = document.querySelector("[" + name + "]");
    return holder ? holder.getAttribute(name) || "" : "";
  }

  const vapidKey = attribute("data-vapid-key");
  const subscribeUrl = attribute("data-subscribe-url");
  const unsubscribeUrl =
    attribute("data-unsubscribe-url") || subscribeUrl.replace(/subscribe\/?$/, "unsubscribe/");

  function say(message) {
    if (statusBox) {
      statusBox.textContent = message;
    }
  }

  function showButtons(subscribed) {
    if (enableButton && disableButton) {
      enableButton.hidden = subscribed;
      disableButton.hidden = !subscribed;
    }
  }

  function busy(isBusy) {
    for (const button of [enableButton, disableButton]) {
      if (button) {
        button.disabled = isBusy;
        button.setAttribute("aria-busy", isBusy ? "true" : "false");
      }
    }
  }

  function isAppleMobile() {
    const ua = navigator.userAgent || "";
    return /iPad|iPhone|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1);
  }

  function supported() {
    return (
      "serviceWorker" in navigator &&
      "PushManager" in window &&
      "Notification" in window &&
      window.isSecureContext
    );
  }

  function unsupportedMessage() {
    if (isAppleMobile()) {
      return (
        "On an iPhone or iPad, push notifications work only in the app added to your " +
        "Home Screen (iOS 16.4 or later): tap Share, then Add to Home Screen, open " +
        "Mockingbird from there and turn notifications on again."
      );
    }
    return (
      "This browser cannot receive push notifications. You still get your " +
      "notifications in the app, and by text message or email if you chose them."
    );
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      return meta.content;
    }
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) {
      return decodeURIComponent(match[1]);
    }
    const input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  // The VAPID public key is base64url; the browser wants its bytes.
  function keyBytes(base64url) {
    const padding = "=".repeat((4 - (base64url.length % 4)) % 4);
    const base64 = (base64url + padding).replace(/-/g, "+").replace(/_/g, "/");
    const raw = window.atob(base64);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i += 1) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  function sameKey(buffer, bytes) {
    if (!buffer) {
      return true; // the browser does not tell: assume it is ours
    }
    const other = new Uint8Array(buffer);
    return other.length === bytes.length && other.every((value, i) => value === bytes[i]);
  }

  async function post(url, payload) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify(payload),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    if (!response.ok) {
      if (response.status === 403 && !data.error) {
        throw new Error("Your session may have ended: reload the page, sign in and try again.");
      }
      throw new Error(data.error || "The server could not record this (error " + response.status + ").");
    }
    return data;
  }

  async function registration() {
    await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    return navigator.serviceWorker.ready;
  }

  async function enable() {
    if (!supported()) {
      say(unsupportedMessage());
      return;
    }
    if (!vapidKey || !subscribeUrl) {
      say("Push notifications are not set up on this site yet.");
      return;
    }
    const permission = await Notification.requestPermission();
    if (permission === "denied") {
      say(
        "Notifications are blocked for this site. Allow them in your browser's site " +
          "settings, then press the button again."
      );
      return;
    }
    if (permission !== "granted") {
      say("You did not allow notifications. Press the button again when you are ready.");
      return;
    }
    const bytes = keyBytes(vapidKey);
    const reg = await registration();
    let subscription = await reg.pushManager.getSubscription();
    const options = subscription ? subscription.options || {} : {};
    if (subscription && !sameKey(options.applicationServerKey, bytes)) {
      // Made with an older key of the site: it would be refused.
      await subscription.unsubscribe();
      subscription = null;
    }
    if (!subscription) {
      subscription = await reg.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: bytes,
      });
    }
    const answer = await post(subscribeUrl, subscription.toJSON());
    showButtons(true);
    say(answer.message || "Push notifications are on for this browser.");
  }

  async function disable() {
    if (!supported()) {
      say(unsupportedMessage());
      return;
    }
    const reg = await navigator.serviceWorker.getRegistration("/");
    const subscription = reg ? await reg.pushManager.getSubscription() : null;
    if (subscription) {
      await post(unsubscribeUrl, { endpoint: subscription.endpoint });
      await subscription.unsubscribe();
    }
    showButtons(false);
    say("Push notifications are off for this browser.");
  }

  function run(action) {
    return async () => {
      busy(true);
      say("Please wait…");
      try {
        await action();
      } catch (error) {
        if (error && error.name === "NotAllowedError") {
          say("You did not allow notifications. Press the button again when you are ready.");
        } else {
          const reason = ((error && error.message) || "an unknown error").replace(/\.$/, "");
          say("That did not work: " + reason + ".");
        }
      } finally {
        busy(false);
      }
    };
  }

  if (enableButton) {
    enableButton.addEventListener("click", run(enable));
  }
  if (disableButton) {
    disableButton.addEventListener("click", run(disable));
  }

  // Show the state of this browser when the page opens.
  (async () => {
    if (!supported()) {
      showButtons(false);
      say(unsupportedMessage());
      return;
    }
    const reg = await navigator.serviceWorker.getRegistration("/");
    const subscription = reg ? await reg.pushManager.getSubscription() : null;
    const on = Boolean(subscription) && Notification.permission === "granted";
    showButtons(on);
    if (on) {
      say("Push notifications are on for this browser.");
    } else if (Notification.permission === "denied") {
      say("Notifications are blocked for this site in your browser's settings.");
    }
  })().catch(() => {});
})();
