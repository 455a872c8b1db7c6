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
