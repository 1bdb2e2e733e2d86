// Gatehouse gate page without network. While online it keeps a copy of the estate's
// pass list (GET offline/bootstrap) in localStorage, refreshed every few minutes. When a
// check cannot reach the server (the browser is offline, or the request fails or times
// out) it decides here, with the same rules as portal/visits/rules.py and the bans, and
// shows the same ADMIT / DENY. Entries and exits recorded offline are queued (they
// survive reloads) and sent to offline/sync when the network is back; the scans the
// server refuses are listed until the guard dismisses them. Every string shown comes
// translated from templates/gate/_offline.html (data-* of #offline-strings).
(function () {
  "use strict";
  if (window.gatehouseOffline) {
    window.gatehouseOffline.mount();
    return;
  }
  var REFRESH_MS = 3 * 60 * 1000; // pass list refresh while online
  var TICK_MS = 20 * 1000; // retry sending the queue / refreshing
  var CHECK_TIMEOUT_MS = 8000; // a gate check slower than this is decided here
  var CHUNK = 100; // items per sync request (the server takes at most 500)
  var WEEKDAYS = { Mon: "1", Tue: "2", Wed: "3", Thu: "4", Fri: "5", Sat: "6", Sun: "7" };

  var state = { networkFailed: false, busy: null, lastRefresh: 0 };

  // --- where we are -------------------------------------------------------------------

  function root() { return document.getElementById("offline-gate"); }
  function conf() { var r = root(); return r ? r.dataset : null; }
  // The banner's strings are on the page; the answers' come with the saved pass list.
  function strings() {
    var b = bootstrap();
    return Object.assign({}, (b && b.strings) || {}, root() ? root().dataset : {});
  }
  function parseStrings(html) {
    if (!html || !window.DOMParser) return {};
    var span = new DOMParser().parseFromString(html, "text/html").getElementById("offline-strings");
    return span ? Object.assign({}, span.dataset) : {};
  }
  function t(name, params) {
    var text = strings()[name] || "";
    Object.keys(params || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(params[k])); });
    return text;
  }
  function plural(base, n) {
    var form = "other";
    try { form = new Intl.PluralRules(conf().lang).select(n) === "one" ? "one" : "other"; } catch (e) { /* keep */ }
    return t(base + (form === "one" ? "One" : "Other"), { n: n });
  }
  function isOffline() { return navigator.onLine === false || state.networkFailed; }

  // --- storage (per estate and guard) -------------------------------------------------

  function key(name) { var c = conf(); return "gatehouse.offline." + c.estate + "." + c.user + "." + name; }
  function load(name, fallback) {
    try { var raw = localStorage.getItem(key(name)); return raw ? JSON.parse(raw) : fallback; } catch (e) { return fallback; }
  }
  function save(name, value) {
    try { localStorage.setItem(key(name), JSON.stringify(value)); return true; } catch (e) { return false; }
  }
  function queue() { return load("queue", []); }
  function rejected() { return load("rejected", []); }
  function bootstrap() { return load("bootstrap", null); }

  // Server time, as well as we know it: the device clock corrected by the offset seen
  // at the last bootstrap (occurred_at must not run ahead of the server's clock).
  function now() { var b = bootstrap(); return new Date(Date.now() + ((b && b.offset) || 0)); }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function deviceHeaders(extra) {
    var headers = extra || {};
    if (window.gatehouseGateDevice) headers["X-Gate-Device"] = window.gatehouseGateDevice;
    return headers;
  }

  function csrfToken() { var m = document.getElementById("page-meta"); return m ? m.dataset.csrf : ""; }
  function setCsrfToken(token) {
    if (!token) return;
    var m = document.getElementById("page-meta");
    if (m) m.dataset.csrf = token;
    document.querySelectorAll("input[name=csrf_token]").forEach(function (input) { input.value = token; });
  }

  // --- the pass list, with the queued scans applied on top -----------------------------

  function passes() {
    var b = bootstrap();
    if (!b || !b.data) return null;
    var list = b.data.passes.map(function (p) { return Object.assign({}, p); });
    var byCode = {};
    list.forEach(function (p) { byCode[p.visitor_code] = p; });
    queue().forEach(function (item) {
      var p = byCode[item.visitor_code];
      if (!p) return;
      if (item.event_type === "ENTRY") { p.entries_used += 1; p.people_inside = true; }
      else { p.people_inside = false; }
    });
    return list;
  }

  function normaliseCode(raw) { return String(raw || "").replace(/[\s\-_.]/g, "").toUpperCase(); }

  function sha256Hex(text) {
    if (!(window.crypto && crypto.subtle)) return Promise.resolve("");
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(function (buf) {
      return Array.prototype.map.call(new Uint8Array(buf), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    });
  }

  function findPass(lookup) {
    var list = passes();
    if (list === null) return Promise.resolve({ noList: true });
    if (lookup.visitId) {
      return Promise.resolve({ pass: list.find(function (p) { return p.id === lookup.visitId; }) || null });
    }
    if (lookup.qrToken) {
      return sha256Hex(lookup.qrToken).then(function (digest) {
        return { pass: list.find(function (p) { return p.qr_token_sha256 === digest; }) || null };
      });
    }
    var code = normaliseCode(lookup.code);
    return Promise.resolve({ pass: code.length === 8 ? list.find(function (p) { return p.visitor_code === code; }) || null : null });
  }

  // --- the rules (portal/visits/rules.py entry_refusal, then portal/visits/bans.py) -----

  function localParts(when, timeZone) {
    var parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: timeZone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(when).forEach(function (part) { parts[part.type] = part.value; });
    return { weekday: WEEKDAYS[parts.weekday], hhmm: parts.hour + ":" + parts.minute };
  }

  function entryRefusal(p, when, timeZone) {
    if (p.status && p.status !== "ACTIVE") return "PASS_REVOKED";
    if (when < new Date(p.valid_from)) return "PASS_NOT_YET_VALID";
    if (when >= new Date(p.valid_until)) return "PASS_EXPIRED";
    if (p.pass_type === "RECURRING") {
      var local = localParts(when, timeZone);
      if ((p.weekdays || "").indexOf(local.weekday) === -1) return "PASS_NOT_YET_VALID";
      if (p.daily_start && local.hhmm < p.daily_start) return "PASS_NOT_YET_VALID";
      if (p.daily_end && local.hhmm >= p.daily_end) return "PASS_EXPIRED";
    }
    if (p.people_inside) return "ALREADY_INSIDE";
    if (p.max_entries !== null && p.max_entries !== undefined && p.entries_used >= p.max_entries) return "PASS_EXHAUSTED";
    return null;
  }

  var SEVERITY_RANK = { HIGH: 0, MEDIUM: 1, LOW: 2 };

  // `bans`: the saved list's (offline/bootstrap's `bans`).
  function activeBan(p, when, bans) {
    var phones = (p.visitors || []).map(function (v) { return v.phone; }).filter(Boolean);
    if (!phones.length) return null;
    var hostId = p.host ? p.host.id : null;
    var found = (bans || []).filter(function (ban) {
      if (phones.indexOf(ban.phone) === -1) return false;
      if (ban.expires_at && new Date(ban.expires_at) <= when) return false;
      return ban.scope === "ESTATE" || (ban.scope === "PERSONAL" && hostId !== null && ban.owner_user_id === hostId);
    });
    found.sort(function (a, c) {
      if (a.scope !== c.scope) return a.scope === "ESTATE" ? -1 : 1;
      return (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[c.severity] ?? 3);
    });
    return found[0] || null;
  }

  // The whole decision from plain data: a pass and the bans as offline/bootstrap gives
  // them, the time (a Date) and the estate's timezone. Reads nothing else.
  function decide(p, when, bans, timeZone) {
    var refusal = entryRefusal(p, when, timeZone);
    if (refusal) return { refusal: refusal };
    var ban = activeBan(p, when, bans);
    return ban ? { refusal: "VISITOR_BANNED", ban: ban } : { refusal: null };
  }

  // The decision here, with the saved bans and this gate's estate.
  function decideHere(p, when) {
    var b = bootstrap();
    return decide(p, when, (b && b.data && b.data.bans) || [], conf().timezone);
  }

  // The rules alone, for tests/browser/test_rule_parity.py (same answers as Python's).
  window.GatehouseRules = { decide: decide };

  // --- showing the answer (the same look as templates/gate/_result.html) ---------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function refusalText(code) {
    var name = "refusal" + code.toLowerCase().split("_").map(function (w) { return w.charAt(0).toUpperCase() + w.slice(1); }).join("");
    return strings()[name] || code;
  }

  function camel(prefix, value) {
    return prefix + String(value).toLowerCase().split("_").map(function (w) { return w.charAt(0).toUpperCase() + w.slice(1); }).join("");
  }

  function formatTime(iso, withDate) {
    var options = withDate ? { dateStyle: "short", timeStyle: "short" } : { timeStyle: "short" };
    try {
      return new Intl.DateTimeFormat(conf().lang, Object.assign({ timeZone: conf().timezone }, options)).format(new Date(iso));
    } catch (e) { return iso; }
  }

  function resultBox() { return document.getElementById("result"); }

  function show(nodes) {
    var box = resultBox();
    if (!box) return;
    box.replaceChildren.apply(box, nodes);
  }

  function facts(p) {
    var guests = p.visitors || [];
    var names = el("dd", { class: "verdict-names" });
    if (!guests.length) names.appendChild(document.createTextNode(t("delivery")));
    guests.forEach(function (g, i) {
      if (i) names.appendChild(el("br"));
      names.appendChild(document.createTextNode(g.name || t("delivery")));
      if (g.phone) { names.appendChild(document.createTextNode(" ")); names.appendChild(el("small", {}, [g.phone])); }
    });
    var plates = guests.map(function (g) { return g.plate; }).filter(Boolean);
    var passInfo = el("dd", {}, [
      (strings()[camel("passType", p.pass_type)] || p.pass_type) + " · ",
      el("span", { class: "plate" }, [p.visitor_code]),
      p.max_entries ? " · " + t("entriesUsed", { used: p.entries_used, max: p.max_entries }) : null,
    ]);
    return el("dl", { class: "facts verdict-facts" }, [
      el("dt", {}, [guests.length > 1 ? t("visitors") : t("visitor")]), names,
      el("dt", {}, [t("host")]), el("dd", {}, [p.host ? p.host.name : "—"]),
      el("dt", {}, [t("unit")]), el("dd", {}, [el("strong", {}, [p.unit])]),
      el("dt", {}, [t("people")]), el("dd", {}, [String(guests.length || 1)]),
      el("dt", {}, [t("vehicle")]),
      el("dd", {}, [plates.length ? el("span", { class: "plate" }, [plates.join(", ")]) : t("onFoot")]),
      el("dt", {}, [t("pass")]), passInfo,
      el("dt", {}, [t("valid")]), el("dd", {}, [formatTime(p.valid_from, true) + " – " + formatTime(p.valid_until, true)]),
    ]);
  }

  // kind: admit | deny | done; word; reason text; pass; action button ("entry"|"exit"|null); note
  // typed: the code the guard typed, repeated when no pass matched it
  function verdict(kind, word, reason, p, action, note, ban, eventId, typed) {
    var article = el("article", { class: "verdict verdict-" + kind, id: "verdict", "data-offline": eventId || "",
                                  tabindex: "-1" }, [
      el("p", { class: "verdict-word" }, [word]),
      reason ? el("p", { class: "verdict-reason", id: "verdict-reason" }, [reason]) : null,
      typed && !p ? el("p", { class: "verdict-code", id: "verdict-code" }, [t("codeTyped", { code: typed })]) : null,
      typed && !p && /[01OI]/.test(typed) ? el("p", { class: "verdict-ban", id: "verdict-hint" }, [
        t("codeConfusable", { code: shownCode(typed) })]) : null,
      ban ? el("p", { class: "verdict-ban" }, [t("ban", {
        severity: strings()[camel("severity", ban.severity)] || ban.severity, reason: ban.reason || "—",
      })]) : null,
      el("p", { class: "verdict-offline", id: "verdict-offline" }, [note]),
      p ? facts(p) : null,
    ]);
    if (p && action) {
      var button = el("button", {
        type: "button", class: "big-button" + (action === "exit" ? " secondary" : ""),
        id: action === "exit" ? "record-exit" : "record-entry",
      }, [action === "exit" ? t("recordExit") : t("recordEntry")]);
      button.addEventListener("click", function () {
        button.disabled = true;
        (action === "exit" ? recordExit : recordEntry)(p.id);
      });
      article.appendChild(el("footer", { class: "verdict-actions" }, [button]));
    }
    show([article]);
    showHint(null);
    if (window.gatehouseReveal) window.gatehouseReveal(article);
    else if (article.scrollIntoView) article.scrollIntoView({ block: "nearest" });
  }

  function showDecision(p, typed) {
    if (!p) {
      verdict("deny", t("deny"), refusalText("NOT_FOUND"), null, null, t("decidedOffline"), null, null, typed);
      return;
    }
    var d = decideHere(p, now());
    if (d.refusal) {
      verdict("deny", t("deny"), refusalText(d.refusal), p, p.people_inside ? "exit" : null, t("decidedOffline"), d.ban);
    } else {
      verdict("admit", t("admit"), null, p, "entry", t("decidedOffline"));
    }
  }

  function showNoList() {
    show([el("p", { class: "field-error", id: "offline-no-list" }, [t("noList")])]);
  }

  // --- offline checks, entries, exits ----------------------------------------------------

  // The shape of a typed code, as portal/gate/service.py code_format_hint judges it.
  function shownCode(code) { return code.length <= 20 ? code : code.slice(0, 20) + "…"; }
  function codeHint(raw) {
    var code = normaliseCode(raw);
    if (!code) return t("codeError");
    if (!/^[A-Z0-9]+$/.test(code)) return t("codeCharacters", { code: shownCode(code) });
    if (code.length !== 8) return t("codeLength", { code: shownCode(code), count: code.length });
    return null;
  }

  // The hint under the code field (templates/gate/home.html #code-hint), or none.
  function showHint(text) {
    var hint = document.getElementById("code-hint");
    var field = document.getElementById("code");
    if (hint) { hint.textContent = text || ""; hint.hidden = !text; }
    if (!field) return;
    if (text) field.setAttribute("aria-invalid", "true"); else field.removeAttribute("aria-invalid");
    if (text && window.gatehouseReveal) window.gatehouseReveal(field, "center");
  }

  function checkLocally(lookup) {
    if (passes() === null) { showNoList(); return Promise.resolve(); }
    var byCode = !lookup.visitId && !lookup.qrToken;
    var hint = byCode ? codeHint(lookup.code) : null;
    if (hint) { showHint(hint); return Promise.resolve(); }
    return findPass(lookup).then(function (found) {
      var code = byCode ? normaliseCode(lookup.code) : "";
      if (found.noList) showNoList();
      else showDecision(found.pass, code);
    });
  }

  function passById(id) {
    var list = passes();
    return list ? list.find(function (p) { return p.id === id; }) || null : null;
  }

  // `clientEventId`: the id an online attempt already carried (see configRequest below),
  // so that if that attempt did reach the server, the sync answers DUPLICATE, not a refusal.
  function enqueue(p, eventType, clientEventId) {
    var item = {
      client_event_id: clientEventId || newId(), event_type: eventType, occurred_at: now().toISOString(),
      visitor_code: p.visitor_code, gate: conf().gate,
    };
    var items = queue();
    items.push(item);
    save("queue", items);
    renderBanner();
    return item;
  }

  function recordEntry(visitId, clientEventId) {
    var p = passById(visitId);
    if (passes() === null) return showNoList();
    if (!p) return showDecision(null);
    var d = decideHere(p, now());
    if (d.refusal) return showDecision(p);
    var item = enqueue(p, "ENTRY", clientEventId);
    p = passById(visitId);
    verdict("admit", t("entryRecorded"), t("at", { time: formatTime(item.occurred_at), gate: conf().gate }), p,
            null, t("queued"), null, item.client_event_id);
  }

  function recordExit(visitId, clientEventId) {
    var p = passById(visitId);
    if (passes() === null) return showNoList();
    if (!p) return showDecision(null);
    if (!p.people_inside) {
      verdict("deny", t("deny"), refusalText("NOT_INSIDE"), p, null, t("decidedOffline"));
      return;
    }
    var item = enqueue(p, "EXIT", clientEventId);
    p = passById(visitId);
    verdict("done", t("exitRecorded"), t("at", { time: formatTime(item.occurred_at), gate: conf().gate }), p,
            null, t("queued"), null, item.client_event_id);
  }

  // A plate as the server stores it (portal/text.py normalise_plate): letters and digits
  // only, upper-case; "lag-123 xy" and "LAG 123.XY" are both "LAG123XY".
  function plateKey(text) {
    return String(text || "").replace(/[^\p{L}\p{N}]+/gu, "").toUpperCase();
  }

  // Today's passes matching a name, phone, plate or unit (the search box, offline).
  function searchLocally(query) {
    var target = document.getElementById("pass-results");
    var list = passes();
    if (!target) return;
    if (list === null) { target.replaceChildren(el("p", { class: "empty" }, [t("noList")])); return; }
    var q = String(query || "").trim();
    if (!q) { target.replaceChildren(); return; }
    var lower = q.toLowerCase();
    var digits = q.replace(/\D/g, "").replace(/^0+/, "");
    var plate = plateKey(q);
    var matches = list.filter(function (p) {
      if (String(p.unit).toLowerCase() === lower) return true;
      return (p.visitors || []).some(function (v) {
        return (v.name && v.name.toLowerCase().indexOf(lower) !== -1) ||
          (plate && v.plate && v.plate.indexOf(plate) !== -1) ||
          (digits.length >= 3 && v.phone && v.phone.indexOf(digits) !== -1);
      });
    }).slice(0, 10);
    if (!matches.length) { target.replaceChildren(el("p", { class: "empty" }, [t("noMatch", { query: q })])); return; }
    target.replaceChildren(el("ul", { class: "pass-list" }, matches.map(function (p) {
      var names = (p.visitors || []).map(function (v) { return v.name; }).filter(Boolean).join(", ") || t("delivery");
      var button = el("button", { type: "button", class: "outline pass-pick" }, [
        el("strong", {}, [names]),
        el("small", {}, [t("unitOf", { unit: p.unit }) + (p.host ? " · " + p.host.name : "") +
          (p.people_inside ? " · " + t("inside") : "")]),
      ]);
      button.addEventListener("click", function () { showDecision(passById(p.id)); });
      return el("li", {}, [button]);
    })));
  }

  // --- htmx: decide here when the server cannot be reached -------------------------------

  var ENTRY_EXIT = /\/gate\/visits\/(\d+)\/(entry|exit)$/;

  function param(formData, name) {
    var value = formData && formData.get ? formData.get(name) : null;
    return value === null || value === undefined ? "" : String(value);
  }

  // What a gate request asks, if this script can answer it offline.
  function offlineAction(path, formData) {
    if (!root()) return null;
    var clean = String(path || "").split("?")[0];
    if (/\/gate\/check$/.test(clean)) {
      var visitId = parseInt(param(formData, "visit_id"), 10);
      return function () {
        return checkLocally({ visitId: visitId || null, qrToken: param(formData, "qr_token").trim(), code: param(formData, "code") });
      };
    }
    var m = ENTRY_EXIT.exec(clean);
    if (m && param(formData, "back") !== "inside") {
      var eventId = param(formData, "client_event_id") || null;
      return function () {
        return m[2] === "entry" ? recordEntry(parseInt(m[1], 10), eventId) : recordExit(parseInt(m[1], 10), eventId);
      };
    }
    if (/\/gate\/find$/.test(clean)) {
      return function () { searchLocally(param(formData, "find")); };
    }
    return null;
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var detail = event.detail;
    // Every entry or exit carries its own event id: if the answer is lost on the way back
    // and the scan is queued offline too, the server knows it already has it.
    if (ENTRY_EXIT.test(String(detail.path || "").split("?")[0]) && detail.formData && detail.formData.set &&
        !detail.formData.get("client_event_id")) {
      detail.formData.set("client_event_id", newId());
    }
    var action = offlineAction(detail.path, detail.formData);
    if (!action) return;
    if (navigator.onLine === false) {
      event.preventDefault();
      action();
      renderBanner();
      return;
    }
    if (!detail.timeout) detail.timeout = CHECK_TIMEOUT_MS;
  });

  function onNetworkFailure(event) {
    var config = event.detail.requestConfig || {};
    var action = offlineAction(config.path, config.formData);
    if (!action) return;
    state.networkFailed = true;
    action();
    renderBanner();
  }
  document.addEventListener("htmx:sendError", onNetworkFailure);
  document.addEventListener("htmx:timeout", onNetworkFailure);
  // 503: the server is up but cannot reach its database; decide here as if offline.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status === 503) onNetworkFailure(event);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status > 0 && xhr.status !== 503 && state.networkFailed) {
      state.networkFailed = false;
      renderBanner();
      tick();
    }
  });

  // --- talking to the server ----------------------------------------------------------------

  function fetchJson(url, options) {
    return fetch(url, Object.assign({ credentials: "same-origin", cache: "no-store", redirect: "manual" }, options))
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) {
          var error = new Error("not json"); error.status = response.status; throw error;
        }
        return response.json().then(function (body) { return { ok: response.ok, status: response.status, body: body }; });
      });
  }

  function refresh() {
    var c = conf();
    if (!c) return Promise.resolve();
    var asked = Date.now();
    return fetchJson(c.bootstrapUrl, { headers: deviceHeaders({ Accept: "application/json" }) }).then(function (res) {
      if (!res.ok || !res.body.data) return;
      var got = Date.now();
      var server = Date.parse(res.body.data.generated_at);
      var offset = isNaN(server) ? 0 : Math.round(server - (asked + got) / 2);
      save("bootstrap", { data: res.body.data, fetched_at: new Date(got).toISOString(), offset: offset,
                          lang: res.body.lang, strings: parseStrings(res.body.strings) });
      state.lastRefresh = got;
      state.networkFailed = false;
      setCsrfToken(res.body.csrf_token);
      if (res.body.gate && root()) root().dataset.gate = res.body.gate;
    });
  }

  function applyResults(sent, results) {
    var b = bootstrap();
    var byId = {};
    sent.forEach(function (item) { byId[item.client_event_id] = item; });
    var done = {};
    var refused = rejected();
    (results || []).forEach(function (r) {
      var item = byId[r.client_event_id];
      if (!item) return;
      done[r.client_event_id] = true;
      settleVerdict(r);
      if (r.status === "REJECTED") {
        refused.push({ client_event_id: item.client_event_id, visitor_code: item.visitor_code, event_type: item.event_type,
                       occurred_at: item.occurred_at, code: r.code, message: r.message });
      } else if (b && b.data) { // APPLIED or DUPLICATE: the server has it; keep the saved list in step until the next refresh
        b.data.passes.forEach(function (p) {
          if (p.visitor_code !== item.visitor_code) return;
          if (item.event_type === "ENTRY") { p.entries_used += 1; p.people_inside = true; } else { p.people_inside = false; }
        });
      }
    });
    if (b) save("bootstrap", b);
    save("rejected", refused);
    save("queue", queue().filter(function (item) { return !done[item.client_event_id]; }));
  }

  // The answer on screen for a scan just sent: the server's refusal turns it into DENY.
  function settleVerdict(result) {
    var article = document.getElementById("verdict");
    if (!article || article.dataset.offline !== String(result.client_event_id)) return;
    var note = document.getElementById("verdict-offline");
    if (note) note.remove();
    if (result.status !== "REJECTED") return;
    article.className = "verdict verdict-deny";
    article.querySelector(".verdict-word").textContent = t("deny");
    var reason = article.querySelector(".verdict-reason");
    if (reason) { reason.textContent = result.message || result.code || ""; reason.id = "verdict-reason"; }
  }

  function syncQueue() {
    var c = conf();
    var items = queue().slice(0, CHUNK);
    if (!c || !items.length) return Promise.resolve(false);
    return fetchJson(c.syncUrl, {
      method: "POST",
      headers: deviceHeaders({ "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() }),
      body: JSON.stringify({ items: items }),
    }).then(function (res) {
      if (!res.ok) return false;
      applyResults(items, res.body.results);
      state.networkFailed = false;
      return queue().length ? syncQueue().then(function () { return true; }) : true;
    }, function (error) {
      // 400: the CSRF token is stale (the page came from the cache): get a fresh one for next time.
      if (error.status === 400) return refresh().then(function () { return false; }, function () { return false; });
      return false;
    });
  }

  // One round: send what is queued, then refresh the pass list if it is old or changed.
  function tick() {
    if (!conf() || navigator.onLine === false) { renderBanner(); return Promise.resolve(); }
    if (state.busy) return state.busy;
    state.busy = syncQueue().then(function (sent) {
      var saved = bootstrap();
      var stale = !saved || saved.lang !== conf().lang || Date.now() - state.lastRefresh > REFRESH_MS;
      if (sent || stale) return refresh();
    }).catch(function () { /* still offline: try again on the next tick */ }).then(function () {
      state.busy = null;
      renderBanner();
      renderRejected();
    });
    return state.busy;
  }

  // --- banner and refused scans ----------------------------------------------------------------

  function renderBanner() {
    var banner = document.getElementById("offline-banner");
    if (!banner) return;
    var n = queue().length;
    var offline = isOffline();
    if (!offline && !n) { banner.hidden = true; banner.textContent = ""; return; }
    var text = offline ? plural("offline", n) : plural("pending", n);
    var b = bootstrap();
    if (offline) text += " · " + (b ? t("listFrom", { time: formatTime(b.fetched_at, true) }) : t("noList"));
    banner.textContent = text;
    banner.className = "offline-banner" + (offline ? " is-offline" : " is-pending");
    banner.hidden = false;
  }

  function renderRejected() {
    var box = document.getElementById("offline-rejected");
    var list = document.getElementById("offline-rejected-list");
    if (!box || !list) return;
    var items = rejected();
    var grew = items.length > list.children.length;
    list.replaceChildren.apply(list, items.map(function (r) {
      return el("li", {}, [
        el("span", { class: "plate" }, [r.visitor_code]), " ",
        el("small", {}, [formatTime(r.occurred_at, true)]), " — ",
        el("strong", {}, [r.message || r.code || ""]),
      ]);
    }));
    box.hidden = items.length === 0;
    if (grew && items.length) box.scrollIntoView({ block: "start" });
  }

  document.addEventListener("click", function (event) {
    if (event.target && event.target.id === "offline-dismiss") {
      save("rejected", []);
      renderRejected();
    }
  });

  // Signing out: the saved pass list and cached page go (they hold residents' details);
  // unsent scans stay for the same guard's next sign-in, after a warning.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!conf() || !form || !/\/logout/.test(form.getAttribute("action") || "")) return;
    var n = queue().length;
    if (n && !window.confirm(plural("signOut", n))) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    try { localStorage.removeItem(key("bootstrap")); } catch (e) { /* nothing saved */ }
    if (window.caches) {
      var prefix = "gatehouse-gate-" + conf().estate + "-";
      caches.keys().then(function (names) {
        names.forEach(function (name) { if (name.indexOf(prefix) === 0) caches.delete(name); });
      });
    }
  }, true);

  window.addEventListener("online", function () { state.networkFailed = false; tick(); });
  window.addEventListener("offline", renderBanner);
  setInterval(function () { if (conf()) tick(); }, TICK_MS);

  // The service worker keeps the gate page as it was at the last full load; a page that
  // came by an htmx swap (boosted link, language switch) replaces that copy here.
  function refreshShell() {
    var c = conf();
    if (!window.caches || navigator.onLine === false) return;
    var prefix = "gatehouse-gate-" + c.estate + "-";
    caches.keys().then(function (names) {
      names = names.filter(function (name) { return name.indexOf(prefix) === 0; });
      if (!names.length) return null;
      return fetch(c.scope, { credentials: "same-origin", headers: deviceHeaders({}) }).then(function (response) {
        if (!response.ok || response.redirected) return null;
        return Promise.all(names.map(function (name) {
          var copy = response.clone();
          return caches.open(name).then(function (cache) { return cache.put(c.scope, copy); });
        }));
      });
    }).catch(function () { /* the cached copy stays */ });
  }

  function mount() {
    var c = conf();
    if (!c || root().dataset.mounted) return;
    root().dataset.mounted = "1";
    state.mounts = (state.mounts || 0) + 1;
    if (state.mounts > 1) refreshShell();
    if ("serviceWorker" in navigator && window.isSecureContext) {
      navigator.serviceWorker.register(c.swUrl, { scope: c.scope }).catch(function () { /* no offline reload */ });
    }
    renderBanner();
    renderRejected();
    tick();
  }

  window.gatehouseOffline = { mount: mount, tick: tick, decide: decideHere, queue: queue };
  document.addEventListener("htmx:load", mount);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
  else mount();
})();
