/* Gatehouse's service worker for notifications, served at /sw.js (scope "/", every page).
 *
 * It only shows web push notifications and opens their links: it does not touch page
 * loads (no fetch handler). The gate's offline worker (/e/<estate>/gate/sw.js) keeps the
 * gate pages apart, in its own narrower scope.
 *
 * A push carries JSON (portal/integrations/push.py):
 *   {"title", "body", "url", "tag", "lang", "actions": [{"action", "title", "url"}]}
 * A tap on the notification opens "url"; a tap on one of its buttons (a walk-in's
 * Approve / Decline) opens that button's "url". Only pages of this portal are opened.
 */
"use strict";

var ICON = new URL("static/img/icon-192.png", self.location.href).href;
var BADGE = new URL("static/img/badge-96.png", self.location.href).href;

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function readPush(event) {
  if (!event.data) return {};
  try {
    var data = event.data.json();
    return data && typeof data === "object" ? data : {};
  } catch (error) {
    return { body: event.data.text() };
  }
}

self.addEventListener("push", function (event) {
  var data = readPush(event);
  var links = { default: typeof data.url === "string" ? data.url : "/" };
  var actions = [];
  (Array.isArray(data.actions) ? data.actions : []).forEach(function (item) {
    if (!item || !item.action || !item.title) return;
    actions.push({ action: String(item.action), title: String(item.title) });
    links[item.action] = String(item.url || links.default);
  });
  var options = {
    body: String(data.body || ""),
    icon: ICON,
    badge: BADGE,
    lang: String(data.lang || ""),
    data: { links: links },
    actions: actions.slice(0, 2)
  };
  if (data.tag) {
    options.tag = String(data.tag);
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(String(data.title || "Gatehouse"), options));
});

function ownPage(link) {
  var url;
  try {
    url = new URL(link || "/", self.location.origin);
  } catch (error) {
    url = new URL("/", self.location.origin);
  }
  return url.origin === self.location.origin ? url.href : new URL("/", self.location.origin).href;
}

self.addEventListener("notificationclick", function (event) {
  var links = (event.notification.data && event.notification.data.links) || {};
  var target = ownPage(links[event.action] || links.default);
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        if (windows[i].url === target && "focus" in windows[i]) return windows[i].focus();
      }
      return self.clients.openWindow(target);
    })
  );
});
