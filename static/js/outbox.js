/* The outbox: what the farmer did with no connection, kept on the phone (IndexedDB) and sent
 * in order when the connection returns. Loaded by the pages (static/js/offline.js shows it)
 * and by the service worker (templates/offline/sw.js sends it on a Background Sync), so it
 * uses nothing of a window: IndexedDB, fetch, FormData, Web Locks, BroadcastChannel.
 *
 * A draft: {id, key, url, fields: [[name, string | {blob, name}]], title, page, state:
 * "waiting" | "refused", status, html, created}. Sending posts the fields as the form would,
 * with its idempotency key among them, and follows no redirect:
 *  - a redirect is the page's success: the draft is done (the page's message waits in the
 *    session for the next page she opens);
 *  - a page answered without a redirect is the form with its errors (or another refusal):
 *    the draft is kept as refused, with that page, for her to fix (offline.js shows it);
 *  - no answer, or the server's fault (5xx): the draft waits, and the rest behind it too, so
 *    they arrive in the order she made them; sending twice is harmless (the keys).
 */
(function (scope) {
  "use strict";

  var DB_NAME = "freshchain-outbox";
  var STORE = "drafts";
  var channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("fc-outbox") : null;

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var result = work(transaction.objectStore(STORE));
        transaction.oncomplete = function () {
          db.close();
          resolve(result && "result" in result ? result.result : undefined);
        };
        transaction.onerror = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  function changed() {
    if (channel) channel.postMessage("changed");
  }

  function all() {
    return withStore("readonly", function (store) { return store.getAll(); }).then(function (drafts) {
      return (drafts || []).sort(function (a, b) { return a.id - b.id; });
    });
  }

  function get(id) {
    return withStore("readonly", function (store) { return store.get(id); });
  }

  function put(draft) {
    return withStore("readwrite", function (store) { return store.put(draft); }).then(function (id) {
      changed();
      return id;
    });
  }

  function remove(id) {
    return withStore("readwrite", function (store) { store.delete(id); }).then(changed);
  }

  function body(draft) {
    var form = new FormData();
    draft.fields.forEach(function (field) {
      var value = field[1];
      if (value && typeof value === "object") form.append(field[0], value.blob, value.name);
      else form.append(field[0], value);
    });
    return form;
  }

  // "sent", "refused" or "later" (offline, or the server's fault: try again after a while).
  function send(draft) {
    return fetch(draft.url, {
      method: "POST",
      body: body(draft),
      credentials: "same-origin",
      redirect: "manual",
    }).then(function (response) {
      if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
        return remove(draft.id).then(function () { return "sent"; });
      }
      if (response.status >= 500 || response.status === 429) return "later";
      return response.text().then(function (html) {
        draft.state = "refused";
        draft.status = response.status;
        draft.html = html;
        return put(draft).then(function () { return "refused"; });
      });
    }, function () { return "later"; });
  }

  function flushNow() {
    return all().then(function (drafts) {
      var waiting = drafts.filter(function (draft) { return draft.state === "waiting"; });
      var outcome = "done";
      return waiting.reduce(function (previous, draft) {
        return previous.then(function () {
          if (outcome === "later") return null;
          return send(draft).then(function (result) { if (result === "later") outcome = "later"; });
        });
      }, Promise.resolve()).then(function () { return outcome; });
    });
  }

  // One sender at a time across the pages and the worker: "done" or "later".
  function flush() {
    if (scope.navigator && scope.navigator.locks) {
      return scope.navigator.locks.request("fc-outbox", flushNow);
    }
    return flushNow();
  }

  scope.FreshOutbox = {
    SYNC_TAG: "fc-outbox",
    all: all,
    get: get,
    put: put,
    remove: remove,
    flush: flush,
    channel: channel,
  };
})(self);
