// Gatehouse: keep what lives outside <body> in step after hx-boost swaps, which
// replace only the body: the page language, the estate colour and the CSRF token.
(function () {
  // The user's own time zone, for the pages outside an estate (portal/web/i18n.py).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && /^[A-Za-z0-9_+\/-]+$/.test(zone) && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* no Intl: the default zone */ }

  function pageMeta() {
    return document.getElementById("page-meta");
  }
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = pageMeta();
    if (meta) event.detail.headers["X-CSRFToken"] = meta.dataset.csrf;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var meta = pageMeta();
    if (!meta) return;
    var root = document.documentElement;
    root.lang = meta.dataset.lang;
    if (meta.dataset.brand) root.style.setProperty("--brand", meta.dataset.brand);
    else root.style.removeProperty("--brand");
  });
})();

// Small behaviours keyed on data-* attributes, so that no template needs inline
// JavaScript (the Content-Security-Policy allows scripts from static files only):
//   data-select-on-focus          a read-only field selects its text when focused
//   data-select-all="<selector>"  a checkbox that ticks or clears every box it names
//   data-submit-on-change         a field that submits its form when it changes
//   data-print                    a button that opens the print dialog
//   data-copy="<selector>"        a button that copies the named field's value, then
//                                 reads data-done ("Copied"); where the clipboard refuses,
//                                 it selects the field and reads data-failed instead
//   data-reset-on-success         an htmx form that clears itself after a good answer
//   data-trigger-on-success="ev"  an htmx form that fires `ev` on <body> after a good answer
//   data-close-on="ev"            a <details> that closes when `ev` reaches it
//   data-poll-unless="<selector>" an htmx poller that skips a turn while it holds a match
//                                 (a reason being typed, an open <details>)
//   data-reveal[="<selector>"]    content htmx swaps in (and is not hidden) that scrolls
//                                 into view when it is not wholly on screen and takes the
//                                 focus; with a selector, the element it names does (the
//                                 field a hint is about). The gate's verdict on a phone.
(function () {
  // Also used by static/js/gate-offline.js for the answers it makes itself.
  function reveal(element, block) {
    if (!element) return;
    var box = element.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) element.scrollIntoView({ block: block || "start" });
    if (element.focus) element.focus({ preventScroll: true });
  }
  window.gatehouseReveal = reveal;

  function closestData(target, name) {
    return target && target.closest ? target.closest("[data-" + name + "]") : null;
  }

  document.addEventListener("focusin", function (event) {
    var field = closestData(event.target, "select-on-focus");
    if (field && field.select) field.select();
  });

  document.addEventListener("change", function (event) {
    var box = closestData(event.target, "select-all");
    if (box) {
      document.querySelectorAll(box.dataset.selectAll).forEach(function (other) { other.checked = box.checked; });
    }
    var field = closestData(event.target, "submit-on-change");
    if (field && field.form) field.form.requestSubmit();
  });

  document.addEventListener("click", function (event) {
    if (closestData(event.target, "print")) window.print();
    var button = closestData(event.target, "copy");
    if (button) {
      var source = document.querySelector(button.dataset.copy);
      // "Copied" only once the clipboard took it; otherwise select the text and say so.
      var failed = function () {
        if (source && source.select) { source.focus(); source.select(); }
        if (button.dataset.failed) button.textContent = button.dataset.failed;
      };
      var done = function () { if (button.dataset.done) button.textContent = button.dataset.done; };
      if (source && navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(done, failed);
      } else {
        failed();
      }
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!event.detail.successful || !form || !form.dataset) return;
    if (form.hasAttribute("data-reset-on-success") && form.reset) form.reset();
    if (form.dataset.triggerOnSuccess && window.htmx) htmx.trigger(document.body, form.dataset.triggerOnSuccess);
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var poller = event.detail.elt;
    var selector = poller && poller.dataset && poller.dataset.pollUnless;
    if (selector && poller.querySelector(selector)) event.preventDefault();
  });

  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (!root || !root.querySelectorAll) return;
    if (root !== document.body) {
      var shown = Array.prototype.slice.call(root.querySelectorAll("[data-reveal]"));
      if (root.matches && root.matches("[data-reveal]")) shown.unshift(root);
      shown = shown.filter(function (el) { return !el.hidden; });
      if (shown.length) {
        var named = shown[0].dataset.reveal;
        if (named) reveal(document.querySelector(named), "center");
        else reveal(shown[0], "start");
      }
    }
    var found = Array.prototype.slice.call(root.querySelectorAll("[data-close-on]"));
    if (root.matches && root.matches("[data-close-on]")) found.push(root);
    found.forEach(function (details) {
      if (details.dataset.closeOnBound) return;
      details.dataset.closeOnBound = "1";
      details.addEventListener(details.dataset.closeOn, function () { details.open = false; });
    });
  });
})();

// The admin menu's group dropdowns (wide screens) and an area's "More" links: a click
// elsewhere or Escape closes them.
(function () {
  var DROPDOWNS = ".menu-group > details, details.nav-more";
  function closeGroups(except) {
    document.querySelectorAll(".menu-group > details[open], details.nav-more[open]").forEach(function (d) {
      if (d !== except) d.open = false;
    });
  }
  document.addEventListener("click", function (event) {
    var inside = event.target.closest ? event.target.closest(DROPDOWNS) : null;
    closeGroups(inside);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeGroups(null);
  });
})();
