{% load static %}/* FreshChain's service worker: served at /sw.js (common/views.py) so that its scope is the
 * whole site, while static files live under /static/. Hand-written and small:
 *
 *  - the app shell (the files below) is cached at install, other static files when first
 *    fetched; static files are answered from the cache first (see fromCacheFirst; this
 *    file's version follows the shell's contents, so an update clears the old shell);
 *  - the farmer's and the courier's pages (PAGES below) are fetched from the network first and
 *    kept; with no connection the kept copy is shown;
 *  - posts are never touched here: the pages keep what they cannot send in the outbox
 *    (static/js/outbox.js), which this worker also sends on a Background Sync;
 *  - signing out, or a page answered by the sign-in form, forgets the kept pages.
 */
"use strict";

var VERSION = "{{ version }}";
var SHELL_CACHE = "fc-shell-" + VERSION;
var PAGE_CACHE = "fc-pages";
var SHELL = {{ shell_files|safe }};
var PAGES = [
  /^\/lots\/(new\/|\d+\/(sell\/)?)?$/,
  /^\/listings\/(mine\/|\d+\/edit\/)$/,
  /^\/orders\/(\d+\/)?$/,
  /^\/courier\/$/,
];
var SIGN_OUT = "{% url 'accounts:sign_out' %}";
var SIGN_IN = "{% url 'accounts:sign_in' %}";

importScripts("{% static 'js/outbox.js' %}");

function isPage(url) {
  return PAGES.some(function (pattern) { return pattern.test(url.pathname); });
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then(function (cache) { return cache.addAll(SHELL); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (names) {
        return Promise.all(names.filter(function (name) {
          return name.indexOf("fc-shell-") === 0 && name !== SHELL_CACHE;
        }).map(function (name) { return caches.delete(name); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

// A name with its content's hash in it (production's static storage) never changes: the kept
// copy is the file. Any other (development) is answered from the kept copy and fetched again
// behind it, so an edited file shows on the next load.
var HASHED = /\.[0-9a-f]{12}\.[a-z0-9]+$/;

function fromCacheFirst(request) {
  return caches.open(SHELL_CACHE).then(function (cache) {
    return cache.match(request).then(function (kept) {
      if (kept && HASHED.test(new URL(request.url).pathname)) return kept;
      var fresh = fetch(request).then(function (response) {
        if (response.ok) cache.put(request, response.clone());
        return response;
      });
      if (!kept) return fresh;
      fresh.catch(function () { /* offline: the kept copy serves */ });
      return kept;
    });
  });
}

function keepPage(url, response) {
  if (response.redirected && new URL(response.url).pathname === SIGN_IN) {
    return caches.delete(PAGE_CACHE);  // signed out meanwhile: nothing of hers stays
  }
  if (!response.ok || response.redirected) return Promise.resolve();
  return caches.open(PAGE_CACHE).then(function (cache) { return cache.put(url, response); });
}

function fromNetworkFirst(request) {
  var url = new URL(request.url);
  return fetch(request)
    .then(function (response) {
      keepPage(url.pathname + url.search, response.clone());
      return response;
    })
    .catch(function () {
      return caches.open(PAGE_CACHE).then(function (cache) {
        return cache.match(url.pathname + url.search).then(function (kept) {
          return kept || cache.match(url.pathname, { ignoreSearch: true });
        });
      }).then(function (kept) {
        return kept || Response.error();
      });
    });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === SIGN_OUT) {
    event.waitUntil(caches.delete(PAGE_CACHE));
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.indexOf("{% get_static_prefix %}") === 0) {
    event.respondWith(fromCacheFirst(request));
  } else if (request.mode === "navigate" && isPage(url)) {
    event.respondWith(fromNetworkFirst(request));
  }
});

// A page asks for the pages she will need offline (her forms, the pages linked from hers).
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "keep-pages" && Array.isArray(data.urls)) {
    event.waitUntil(Promise.all(data.urls.slice(0, 20).map(function (href) {
      var url = new URL(href, self.location.origin);
      if (url.origin !== self.location.origin || !isPage(url)) return null;
      return fetch(url.href, { credentials: "same-origin" })
        .then(function (response) { return keepPage(url.pathname + url.search, response); })
        .catch(function () { /* offline again: kept next time */ });
    })));
  }
});

// The connection is back: an open page sends (it shows the progress and any refusal at
// once); with none open, the worker sends itself.
self.addEventListener("sync", function (event) {
  if (event.tag !== self.FreshOutbox.SYNC_TAG) return;
  event.waitUntil(self.clients.matchAll({ type: "window" }).then(function (pages) {
    if (!pages.length) return self.FreshOutbox.flush();
    pages.forEach(function (page) { page.postMessage({ type: "send" }); });
    return null;
  }));
});
