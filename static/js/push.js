// Gatehouse: "Notifications on this device" (web push), for every [data-push-control]
// (templates/account/_push_control.html).
//
// On a button press it asks the browser's permission, registers the portal's service
// worker (/sw.js, scope "/"), subscribes with the portal's VAPID public key (data-key)
// and POSTs the subscription (data-subscribe, CSRF token in X-CSRFToken); "Turn off"
// tells the server (data-unsubscribe) and unsubscribes the browser. The control shows
// one state: on, off, blocked (the browser said no), unsupported, or busy. After each
// change it fires `push-changed` on <body> (the list of devices reloads itself).
(function () {
  if (window.gatehouseNotifications) return;

  function supported() {
    return window.isSecureContext && "serviceWorker" in navigator && "PushManager" in window &&
      "Notification" in window;
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function sameKey(buffer, bytes) {
    if (!buffer) return true; // the browser does not say: trust it
    var given = new Uint8Array(buffer);
    if (given.length !== bytes.length) return false;
    for (var i = 0; i < given.length; i++) if (given[i] !== bytes[i]) return false;
    return true;
  }

  function csrfToken() {
    var meta = document.getElementById("page-meta");
    return meta ? meta.dataset.csrf : "";
  }

  function endpoints(el) {
    try { return JSON.parse(el.dataset.endpoints || "[]"); } catch (error) { return []; }
  }

  function show(el, state, message) {
    el.dataset.state = state;
    var text = el.querySelector("[data-push-state]");
    if (text) text.textContent = message || el.dataset["msg" + state.charAt(0).toUpperCase() + state.slice(1)] || "";
    var on = el.querySelector("[data-push-on]");
    var off = el.querySelector("[data-push-off]");
    if (on) { on.hidden = state !== "off"; on.disabled = false; }
    if (off) { off.hidden = state !== "on"; off.disabled = false; }
  }

  function busy(el) {
    el.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
    var text = el.querySelector("[data-push-state]");
    if (text) text.textContent = el.dataset.msgBusy || "";
  }

  // The portal's registration, active (subscribing needs an active worker).
  function registration(el) {
    return navigator.serviceWorker.register(el.dataset.sw, { scope: "/" }).then(function (reg) {
      if (reg.active) return reg;
      var worker = reg.installing || reg.waiting;
      return new Promise(function (resolve, reject) {
        worker.addEventListener("statechange", function () {
          if (worker.state === "activated") resolve(reg);
          if (worker.state === "redundant") reject(new Error("service worker not installed"));
        });
      });
    });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false }; });
    });
  }

  function changed() {
    document.body.dispatchEvent(new CustomEvent("push-changed", { bubbles: true }));
  }

  function refresh(el) {
    if (!supported()) return show(el, "unsupported");
    if (Notification.permission === "denied") return show(el, "blocked");
    navigator.serviceWorker.getRegistration("/").then(function (reg) {
      return reg ? reg.pushManager.getSubscription() : null;
    }).then(function (subscription) {
      var mine = subscription && Notification.permission === "granted" &&
        endpoints(el).indexOf(subscription.endpoint) !== -1;
      show(el, mine ? "on" : "off");
    }).catch(function () { show(el, "off"); });
  }

  function turnOn(el) {
    busy(el);
    var key = keyBytes(el.dataset.key);
    Notification.requestPermission().then(function (permission) {
      if (permission === "denied") throw { state: "blocked" };
      if (permission !== "granted") throw { state: "off", message: el.dataset.msgDismissed };
      return registration(el);
    }).then(function (reg) {
      return reg.pushManager.getSubscription().then(function (old) {
        if (old && !sameKey(old.options && old.options.applicationServerKey, key)) {
          return old.unsubscribe().then(function () { return null; }); // made with another key
        }
        return old;
      }).then(function (old) {
        return old || reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      });
    }).catch(function (error) {
      if (error && error.state) throw error;
      throw { state: "off", message: el.dataset.msgFailed };
    }).then(function (subscription) {
      return post(el.dataset.subscribe, { subscription: subscription.toJSON() });
    }).then(function (answer) {
      if (!answer.ok) throw { state: "off", message: answer.message || el.dataset.msgError };
      var list = endpoints(el);
      list.push(answer.endpoint);
      el.dataset.endpoints = JSON.stringify(list);
      show(el, "on", answer.message);
      changed();
    }).catch(function (error) {
      show(el, (error && error.state) || "off", error && error.message);
    });
  }

  function turnOff(el) {
    busy(el);
    navigator.serviceWorker.getRegistration("/").then(function (reg) {
      return reg ? reg.pushManager.getSubscription() : null;
    }).then(function (subscription) {
      if (!subscription) return { ok: true };
      return post(el.dataset.unsubscribe, { endpoint: subscription.endpoint }).then(function (answer) {
        if (!answer.ok && answer.code !== "NOT_FOUND") throw { message: answer.message || el.dataset.msgError };
        el.dataset.endpoints = JSON.stringify(endpoints(el).filter(function (e) { return e !== subscription.endpoint; }));
        return subscription.unsubscribe().then(function () { return answer; });
      });
    }).then(function (answer) {
      show(el, "off", answer.ok ? answer.message : undefined);
      changed();
    }).catch(function (error) {
      show(el, "on", (error && error.message) || el.dataset.msgError);
    });
  }

  function mount(root) {
    var found = root && root.querySelectorAll ? Array.prototype.slice.call(root.querySelectorAll("[data-push-control]")) : [];
    if (root && root.matches && root.matches("[data-push-control]")) found.push(root);
    found.forEach(function (el) {
      if (el.dataset.mounted) return;
      el.dataset.mounted = "1";
      var on = el.querySelector("[data-push-on]");
      var off = el.querySelector("[data-push-off]");
      if (on) on.addEventListener("click", function () { turnOn(el); });
      if (off) off.addEventListener("click", function () { turnOff(el); });
      refresh(el);
    });
  }

  window.gatehouseNotifications = { mount: mount };
  document.addEventListener("htmx:load", function (event) { mount(event.detail.elt); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { mount(document); });
  } else {
    mount(document);
  }
})();
