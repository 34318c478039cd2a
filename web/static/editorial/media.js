/* Media uploads: several files, drag and drop, one progress bar per file. Used by the library and the picker. */
(function () {
  "use strict";
  var Loa = window.Loa = window.Loa || {};

  Loa.uploadFiles = function (url, files, list, onDone) {
    Array.prototype.forEach.call(files, function (file) {
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = file.name;
      var bar = document.createElement("progress");
      bar.max = 100; bar.value = 0;
      var status = document.createElement("span");
      status.className = "upload-status";
      li.appendChild(name); li.appendChild(bar); li.appendChild(status);
      list.appendChild(li);
      Loa.upload(url, file, function (fraction) { bar.value = Math.round(fraction * 100); }).then(function (res) {
        if (res.status === 201) {
          bar.value = 100; li.className = "done"; status.textContent = " ✓";
          if (onDone) { onDone(res.body); }
        } else {
          li.className = "failed";
          status.textContent = " " + ((res.body && res.body.error && res.body.error.message) || ("HTTP " + res.status));
        }
      });
    });
  };

  document.addEventListener("DOMContentLoaded", function () {
    var zone = document.getElementById("dropzone");
    if (!zone) { return; }
    var input = document.getElementById("media-files");
    var list = document.getElementById("upload-progress");
    var url = zone.getAttribute("data-upload-url");
    var done = function () { document.getElementById("upload-done").hidden = false; };
    input.addEventListener("change", function () { Loa.uploadFiles(url, input.files, list, done); input.value = ""; });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("dragging"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files.length) { Loa.uploadFiles(url, e.dataTransfer.files, list, done); }
    });
  });
})();
