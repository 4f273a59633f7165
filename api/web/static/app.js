/* Keeps the case page current: polls status.json with If-None-Match (304 while nothing
   changed) and, when the version moves, swaps in the server-rendered fragment. */
(function () {
  "use strict";
  var live = document.getElementById("case-live");
  var note = document.getElementById("live-status");
  if (!live || !window.fetch || !window.DOMParser) return;
  var base = "/cases/" + encodeURIComponent(live.dataset.caseId);
  var etag = '"' + live.dataset.version + '"';
  var busy = false;
  var timer = window.setInterval(poll, 3000);

  function say(text) { if (note) note.textContent = text; }

  function get(path, headers) {
    return fetch(base + path, { headers: headers || {}, cache: "no-store", credentials: "same-origin" });
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("case-live");
    if (!fresh) return;
    live.replaceWith(fresh);
    live = fresh;
    etag = '"' + fresh.dataset.version + '"';
    var state = document.getElementById("case-state");
    say("Updated: the case is now " + (state ? state.textContent : "changed") + ".");
  }

  function poll() {
    if (busy || document.hidden) return;
    busy = true;
    get("/status.json", { "If-None-Match": etag, Accept: "application/json" })
      .then(function (response) {
        if (response.status === 304) return null;
        if (response.status === 401 || response.status === 404) {
          window.clearInterval(timer);
          say("This page no longer updates: reload it to sign in again.");
          return null;
        }
        if (!response.ok) throw new Error("status " + response.status);
        return get("/fragment").then(function (fragment) {
          if (!fragment.ok) throw new Error("status " + fragment.status);
          return fragment.text().then(swap);
        });
      })
      .catch(function () { say("Could not check for changes; trying again."); })
      .then(function () { busy = false; });
  }
})();
