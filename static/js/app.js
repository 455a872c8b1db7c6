// The product's own JavaScript (no inline scripts: the Content-Security-Policy forbids them).
"use strict";

// A form or button with data-confirm="Question?" asks before it submits.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const submitter = event.submitter;
  const question =
    (submitter && submitter.dataset.confirm) || (form && form.dataset && form.dataset.confirm);
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// Move focus to the page's main area when the skip link is used.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.skip-link");
  if (link) {
    const main = document.getElementById("main");
    if (main) {
      main.focus();
    }
  }
});

// A polled block (the request's live status) whose session has ended would receive
// the login page: reload instead, so the whole page goes to the login.
document.addEventListener("htmx:beforeSwap", (event) => {
  const xhr = event.detail.xhr;
  if (xhr && xhr.responseURL && xhr.responseURL.includes("/accounts/login/")) {
    event.detail.shouldSwap = false;
    window.location.reload();
  }
});

// Live blocks ([data-live]: the hub's inbox, the hub's home page) are re-rendered by
// the server when something changed. A block with a form being filled in is kept as it
// is (what was typed is never lost): the change is said in the live region and shown at
// the next poll after the form is sent or left as it was. A reply that is only opened
// (a <details> with nothing typed yet) is opened again in the new block.
function liveFieldChanged(field) {
  if (field.type === "hidden" || field.type === "submit" || field.type === "button") {
    return false;
  }
  if (field.type === "checkbox" || field.type === "radio") {
    return field.checked !== field.defaultChecked;
  }
  if (field.tagName === "SELECT") {
    return Array.from(field.options).some((option) => option.selected !== option.defaultSelected);
  }
  return field.value !== field.defaultValue;
}

function liveBlockBusy(block) {
  const active = document.activeElement;
  if (active && block.contains(active) && active.matches("input, textarea, select")) {
    return true;
  }
  return Array.from(block.querySelectorAll("input, textarea, select")).some(liveFieldChanged);
}

const liveOpenReplies = new Map();

document.addEventListener("htmx:beforeSwap", (event) => {
  const block = event.detail.target;
  if (!event.detail.shouldSwap || !block || !block.matches || !block.matches("[data-live]")) {
    return;
  }
  if (liveBlockBusy(block)) {
    event.detail.shouldSwap = false;
    const region = document.getElementById("live-news");
    const reply = new DOMParser().parseFromString(event.detail.serverResponse, "text/html");
    const news = reply.getElementById("live-news");
    if (region && news) {
      region.textContent = `${news.textContent.trim()} It shows here when you have sent or cleared what you are writing.`;
    }
    return;
  }
  liveOpenReplies.set(
    block.id,
    Array.from(block.querySelectorAll("details[open] form")).map((form) =>
      form.getAttribute("action"),
    ),
  );
});

document.addEventListener("htmx:afterSwap", (event) => {
  const block = event.target;
  if (!block.matches || !block.matches("[data-live]") || !liveOpenReplies.has(block.id)) {
    return;
  }
  const actions = liveOpenReplies.get(block.id);
  liveOpenReplies.delete(block.id);
  block.querySelectorAll("details form").forEach((form) => {
    if (actions.includes(form.getAttribute("action"))) {
      form.closest("details").open = true;
    }
  });
});

// A form sent with mistakes opens with its error summary ("There is a problem"): the
// focus moves there, so a screen reader reads it first and a phone scrolls it into
// view. The same when a form sent by htmx comes back with one.
function focusErrorSummary(root) {
  const summary = root.querySelector("[data-testid='error-summary']");
  if (summary) {
    summary.scrollIntoView({ block: "start" });
    summary.focus({ preventScroll: true });
  }
}

focusErrorSummary(document);

document.addEventListener("htmx:afterSwap", (event) => {
  // Only after a form was sent: a block that refreshes itself never takes the focus.
  const config = event.detail && event.detail.requestConfig;
  if (config && config.verb !== "get" && event.target && event.target.querySelector) {
    focusErrorSummary(event.target);
  }
});

// A link in the summary puts the cursor in the field, with its label in view.
document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-testid='error-summary'] a[href^='#']");
  if (!link) {
    return;
  }
  const field = document.getElementById(link.getAttribute("href").slice(1));
  if (!field) {
    return;
  }
  event.preventDefault();
  const control = field.matches("input, select, textarea")
    ? field
    : field.querySelector("input, select, textarea");
  const label =
    (control && control.id && document.querySelector(`label[for="${control.id}"]`)) || field;
  const group = field.closest("fieldset") || label;
  group.scrollIntoView({ block: "start" });
  (control || field).focus({ preventScroll: true });
});
