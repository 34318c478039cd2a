/* Loa editorial UI: shared helpers (no inline scripts: the pages run under a strict CSP). */
(function () {
  "use strict";
  var Loa = window.Loa = window.Loa || {};
  Loa.csrf = function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  };
  /* POST JSON with the CSRF header; resolves to {status, body}. */
  Loa.postJSON = function (url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": Loa.csrf()},
      body: JSON.stringify(data)
    }).then(function (r) {
      return r.text().then(function (t) {
        var body = null;
        try { body = JSON.parse(t); } catch (e) { body = null; }
        return {status: r.status, body: body};
      });
    });
  };
  /* Upload one file with a progress callback (XHR: fetch has no upload progress). */
  Loa.upload = function (url, file, onProgress) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      var form = new FormData();
      form.append("file", file);
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRFToken", Loa.csrf());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable && onProgress) { onProgress(e.loaded / e.total); }
      });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        resolve({status: xhr.status, body: body});
      });
      xhr.addEventListener("error", function () { resolve({status: 0, body: null}); });
      xhr.send(form);
    });
  };
  /* After signing in again, the login page says that a kept draft comes back. */
  document.addEventListener("DOMContentLoaded", function () {
    var note = document.getElementById("draft-kept");
    if (!note) { return; }
    try {
      for (var i = 0; i < localStorage.length; i++) {
        if (localStorage.key(i).indexOf("loa-draft-") === 0) { note.hidden = false; }
      }
    } catch (e) { /* storage unavailable */ }
  });
})();
