// Gatehouse gate service worker (served by portal/gate/offline_views.py, scope: this
// estate's gate pages). Keeps the gate page and the assets it needs, so reloading the
// page without network still shows it; the page's own script decides offline.
// Navigations: network first, the cached gate page when the network fails, is too slow,
// or the server answers 503 (its database is down). Assets: from the cache, refreshed in
// the background. Everything else (checks, entries, sync, bootstrap) goes to the network
// untouched.
"use strict";
var CACHE = {{ cache_name|tojson }};
var PREFIX = {{ cache_prefix|tojson }};
var SHELL = {{ shell|tojson }};
var ASSETS = {{ assets|tojson }};
var NAVIGATION_TIMEOUT = 6000;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return cache.addAll(ASSETS).then(function () {
        return fetch(SHELL, { credentials: "same-origin" }).then(function (response) {
          if (response.ok && !response.redirected) return cache.put(SHELL, response);
        }).catch(function () {});
      });
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf(PREFIX) === 0 && name !== CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function fromNetworkOrShell(request) {
  var isShell = new URL(request.url).pathname === SHELL;
  var network = fetch(request).then(function (response) {
    if (response.status === 503) {
      // The server cannot reach its database: the kept gate page works offline.
      return caches.match(SHELL, { ignoreVary: true }).then(function (cached) { return cached || response; });
    }
    if (isShell && response.ok && !response.redirected && new URL(request.url).search === "") {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(SHELL, copy); });
    }
    return response;
  });
  var timeout = new Promise(function (resolve, reject) {
    setTimeout(function () { reject(new Error("slow network")); }, NAVIGATION_TIMEOUT);
  });
  return Promise.race([network, timeout]).catch(function () {
    return caches.match(SHELL, { ignoreVary: true }).then(function (cached) { return cached || network; });
  });
}

function fromCacheThenRefresh(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (cached) {
      var network = fetch(request).then(function (response) {
        if (response.ok) cache.put(request, response.clone());
        return response;
      });
      if (cached) {
        network.catch(function () {});
        return cached;
      }
      return network;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(fromNetworkOrShell(request));
  } else if (ASSETS.indexOf(url.pathname) !== -1) {
    event.respondWith(fromCacheThenRefresh(request));
  }
});
