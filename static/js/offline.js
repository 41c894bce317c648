/* Offline work on the farmer's pages (templates/offline/_outbox.html loads it with outbox.js).
 *
 *  - registers the service worker (/sw.js) and asks it to keep the pages she will need;
 *  - form[data-offline-form]: the form is kept as a draft in the outbox (outbox.js) before it
 *    is sent; sent, the page goes on as after a plain post; with no connection it stays on the
 *    phone as "waiting", the form is emptied for the next one (with a new key), and it is
 *    sent by itself when the connection returns (the online event, then retries with growing
 *    waits, and Background Sync where the browser has it). A refusal comes back to the draft:
 *    the banner offers to fix it, and the form opens again with the server's errors;
 *  - photos are scaled on the phone before they are kept or sent: longest side at most
 *    1600 px, JPEG at 0.8, a few hundred kilobytes instead of several megabytes.
 */
(function () {
  "use strict";

  var box = document.querySelector("[data-outbox]");
  var Outbox = window.FreshOutbox;
  if (!box || !Outbox || !window.indexedDB) return;

  var MAX_SIDE = 1600;
  var JPEG_QUALITY = 0.8;
  var RETRY_MS = [2000, 4000, 8000, 16000, 30000, 60000];

  var main = document.querySelector("main") || document.body;
  main.insertBefore(box, main.firstChild);

  function text(name) {
    var element = box.querySelector('[data-text="' + name + '"]');
    return element ? element.textContent.trim() : "";
  }

  function newKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (byte) {
      return ("0" + byte.toString(16)).slice(-2);
    }).join("");
  }

  // --- The service worker -----------------------------------------------------------------

  function keepPages() {
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      box.setAttribute("data-worker", "ready");  // this page works offline from now on
    }
    if (!navigator.serviceWorker || !navigator.serviceWorker.controller || !navigator.onLine) return;
    var urls = (box.getAttribute("data-keep") || "").split(" ").filter(Boolean);
    document.querySelectorAll("main a[href]").forEach(function (link) { urls.push(link.href); });
    navigator.serviceWorker.controller.postMessage({ type: "keep-pages", urls: urls });
  }

  if (navigator.serviceWorker && window.isSecureContext) {
    navigator.serviceWorker.register(box.getAttribute("data-sw-url"), { scope: "/" })
      .catch(function () { /* no worker: the outbox still keeps what cannot be sent */ });
    if (navigator.serviceWorker.controller) keepPages();
    else navigator.serviceWorker.addEventListener("controllerchange", keepPages);
  }

  function askForSync() {
    if (!navigator.serviceWorker || !window.SyncManager) return;
    navigator.serviceWorker.ready
      .then(function (registration) { return registration.sync.register(Outbox.SYNC_TAG); })
      .catch(function () { /* the page's own retries send it */ });
  }

  // --- Photos -------------------------------------------------------------------------------

  function scaled(file) {
    if (!window.createImageBitmap || !/^image\//.test(file.type)) return Promise.resolve(file);
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var ratio = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * ratio));
      canvas.height = Math.max(1, Math.round(bitmap.height * ratio));
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          var name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
          resolve(blob ? new File([blob], name, { type: "image/jpeg" }) : file);
        }, "image/jpeg", JPEG_QUALITY);
      });
    }, function () { return file; /* not an image the phone reads: the server says so */ });
  }

  function fieldsOf(form, submitter) {
    var data = submitter ? new FormData(form, submitter) : new FormData(form);
    var fields = [];
    var pending = [];
    data.forEach(function (value, name) {
      if (typeof value === "string") {
        fields.push([name, value]);
      } else if (value.size > 0) {
        var slot = [name, null];
        fields.push(slot);
        pending.push(scaled(value).then(function (file) {
          slot[1] = { blob: file, name: file.name };
        }));
      }
    });
    return Promise.all(pending).then(function () { return fields; });
  }

  // --- Drafts -------------------------------------------------------------------------------

  function titleOf(form, submitter) {
    var heading = document.querySelector("main h1");
    var title = form.getAttribute("data-offline-title") || (heading ? heading.textContent.trim() : "");
    if (submitter && !form.hasAttribute("data-offline-title") && form.querySelector("[name=idempotency_key]") === null) {
      title += " · " + submitter.textContent.trim();
    }
    return title;
  }

  function formPage() {
    return location.pathname;
  }

  var submitting = false;

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-offline-form]")) return;
    event.preventDefault();
    if (submitting) return;  // a double tap keeps one draft
    submitting = true;
    var submitter = event.submitter || null;
    var keyInput = form.querySelector("[name=idempotency_key]");
    var replaces = parseInt(form.getAttribute("data-draft-id"), 10);
    fieldsOf(form, submitter).then(function (fields) {
      return Outbox.put({
        key: keyInput ? keyInput.value : newKey(),
        url: form.action,
        fields: fields,
        title: titleOf(form, submitter),
        page: formPage(),
        state: "waiting",
        created: Date.now(),
      });
    }).then(function (id) {
      return (replaces ? Outbox.remove(replaces) : Promise.resolve()).then(function () {
        return Outbox.flush().then(function () { return Outbox.get(id); });
      }).then(function (draft) {
        if (!draft) {  // sent: go on as after a plain post
          location.assign(form.getAttribute("data-offline-next") || location.pathname);
        } else if (draft.state === "refused") {
          location.assign(draft.page + "?draft=" + draft.id);
        } else {
          keptOnThePhone(form, submitter);
          scheduleRetry();
          askForSync();
        }
      });
    }).catch(function () {
      form.submit();  // no IndexedDB after all (private mode): the plain post
    }).then(function () { submitting = false; });
  });

  function keptOnThePhone(form, submitter) {
    form.removeAttribute("data-draft-id");
    var keyInput = form.querySelector("[name=idempotency_key]");
    if (keyInput) {
      form.reset();
      keyInput.value = newKey();
      form.querySelectorAll(".errorlist").forEach(function (list) { list.remove(); });
    } else if (submitter) {
      submitter.disabled = true;
    }
    var note = box.querySelector("[data-outbox-note]");
    note.textContent = text("kept");
    note.hidden = false;
    if (history.replaceState && location.search) history.replaceState(null, "", location.pathname);
    render();
  }

  // --- The banner ---------------------------------------------------------------------------

  function render() {
    return Outbox.all().then(function (drafts) {
      var waiting = drafts.filter(function (draft) { return draft.state === "waiting"; });
      var refused = drafts.filter(function (draft) { return draft.state === "refused"; });
      var count = box.querySelector("[data-outbox-count]");
      count.textContent = waiting.length ? text("waiting").replace("{count}", waiting.length) : "";
      count.hidden = !waiting.length;
      var list = box.querySelector("[data-outbox-list]");
      list.textContent = "";
      drafts.forEach(function (draft) {
        var item = document.createElement("li");
        item.setAttribute("data-draft", draft.state);
        var label = document.createElement("span");
        label.textContent = draft.title + " · " + text("state-" + draft.state);
        item.appendChild(label);
        if (draft.state === "refused") {
          var fix = document.createElement("a");
          fix.href = draft.page + "?draft=" + draft.id;
          fix.textContent = text("fix");
          fix.className = "button";
          item.appendChild(fix);
        }
        var discard = document.createElement("button");
        discard.type = "button";
        discard.className = "secondary";
        discard.textContent = text("discard");
        discard.addEventListener("click", function () {
          if (window.confirm(text("discard-confirm"))) Outbox.remove(draft.id).then(render);
        });
        item.appendChild(discard);
        list.appendChild(item);
      });
      var offline = box.querySelector("[data-outbox-offline]");
      offline.hidden = navigator.onLine;
      box.hidden = !drafts.length && navigator.onLine && box.querySelector("[data-outbox-note]").hidden;
    });
  }

  // --- Fixing a refused draft ---------------------------------------------------------------

  function restoreFiles(form, draft) {
    if (typeof DataTransfer !== "function") return;
    draft.fields.forEach(function (field) {
      if (!field[1] || typeof field[1] !== "object") return;
      var input = form.querySelector('input[type=file][name="' + field[0] + '"]');
      if (!input) return;
      var files = new DataTransfer();
      files.items.add(new File([field[1].blob], field[1].name, { type: field[1].blob.type }));
      input.files = files.files;
    });
  }

  function fillFrom(form, draft) {
    var values = {};
    draft.fields.forEach(function (field) {
      if (typeof field[1] === "string") (values[field[0]] = values[field[0]] || []).push(field[1]);
    });
    Array.prototype.forEach.call(form.elements, function (element) {
      var name = element.name;
      if (!name || name === "csrfmiddlewaretoken" || !(name in values)) return;
      if (element.type === "checkbox" || element.type === "radio") {
        element.checked = values[name].indexOf(element.value) !== -1;
      } else if (element.type !== "file") {
        element.value = values[name][0];
      }
    });
  }

  function showDraft(id) {
    return Outbox.get(id).then(function (draft) {
      var form = document.querySelector("form[data-offline-form]");
      if (!draft || !form) return;
      var answer = draft.html ? new DOMParser().parseFromString(draft.html, "text/html") : null;
      var answered = answer && answer.querySelector("form[data-offline-form]");
      if (answered) {
        var token = form.querySelector("[name=csrfmiddlewaretoken]");
        form.innerHTML = answered.innerHTML;  // her values, with the server's errors beside them
        var fresh = form.querySelector("[name=csrfmiddlewaretoken]");
        if (token && fresh) fresh.value = token.value;
      } else {
        fillFrom(form, draft);
        if (draft.state === "refused") {
          var problem = document.createElement("ul");
          problem.className = "errorlist nonfield";
          var line = document.createElement("li");
          line.textContent = text("refused-other");
          problem.appendChild(line);
          form.insertBefore(problem, form.firstChild);
        }
      }
      var messages = answer && answer.querySelector("ul.messages");
      if (messages) form.parentNode.insertBefore(document.importNode(messages, true), form);
      restoreFiles(form, draft);
      form.setAttribute("data-draft-id", String(draft.id));
    });
  }

  // --- Sending ------------------------------------------------------------------------------

  var retries = 0;
  var timer = null;

  function scheduleRetry() {
    clearTimeout(timer);
    timer = setTimeout(send, RETRY_MS[Math.min(retries, RETRY_MS.length - 1)]);
    retries += 1;
  }

  function send() {
    clearTimeout(timer);
    return Outbox.flush().then(function (outcome) {
      if (outcome === "later") {
        scheduleRetry();
      } else {
        retries = 0;
      }
      return Outbox.all().then(function (drafts) {
        var note = box.querySelector("[data-outbox-note]");
        var waiting = drafts.some(function (draft) { return draft.state === "waiting"; });
        if (!waiting && !note.hidden) note.textContent = text("sent");
      }).then(render);
    });
  }

  window.addEventListener("online", function () { retries = 0; send(); });
  window.addEventListener("offline", render);
  if (Outbox.channel) Outbox.channel.addEventListener("message", render);
  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "send") send();
    });
  }

  var draftId = parseInt(new URLSearchParams(location.search).get("draft"), 10);
  (draftId ? showDraft(draftId) : Promise.resolve()).then(render).then(function () {
    if (navigator.onLine) send();
  });
})();
