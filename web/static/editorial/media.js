/* Media uploads: several files, drag and drop, one progress bar per file. Used by the library and the picker. */
(function () {
  "use strict";
  var Loa = window.Loa = window.Loa || {};

  /* The limits the server will hold the file to (data-upload-limits), checked before a byte is sent: the first
     bytes' magic numbers (as the server reads them), that kind's size limit, and a picture's pixels where the
     browser can decode it. Resolves to the message to show, or null to send the file. */
  function sniff(b) {
    var ascii = function (from, to) { return String.fromCharCode.apply(null, Array.prototype.slice.call(b, from, to)); };
    if (b.length >= 12 && ascii(4, 8) === "ftyp") { return "video"; }
    if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) { return "video"; }
    if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "AVI ") { return "video"; }
    if (b[0] === 0 && b[1] === 0 && b[2] === 1 && (b[3] === 0xba || b[3] === 0xb3)) { return "video"; }
    if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) { return "image"; }
    if (ascii(0, 8) === "\x89PNG\r\n\x1a\n") { return "image"; }
    if (ascii(0, 6) === "GIF87a" || ascii(0, 6) === "GIF89a") { return "image"; }
    if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") { return "image"; }
    return null;
  }
  function imageSize(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file).then(function (bitmap) {
        var size = {w: bitmap.width, h: bitmap.height};
        bitmap.close();
        return size;
      });
    }
    return new Promise(function (resolve, reject) {
      var img = new Image();
      var url = URL.createObjectURL(file);
      img.onload = function () { URL.revokeObjectURL(url); resolve({w: img.naturalWidth, h: img.naturalHeight}); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("undecodable")); };
      img.src = url;
    });
  }
  Loa.uploadLimits = function () {
    var holder = document.querySelector("[data-upload-limits]");
    try { return holder ? JSON.parse(holder.getAttribute("data-upload-limits")) : null; } catch (e) { return null; }
  };
  Loa.checkUpload = function (file, limits) {
    if (!limits) { return Promise.resolve(null); }
    var m = limits.messages;
    return file.slice(0, 16).arrayBuffer().then(function (buffer) {
      var kind = sniff(new Uint8Array(buffer));
      if (!kind) { return m.not_media; }
      if (kind === "video") { return file.size > limits.max_video_bytes ? m.video_too_large : null; }
      if (file.size > limits.max_image_bytes) { return m.image_too_large; }
      return imageSize(file).then(function (size) {
        if (size.w * size.h <= limits.max_pixels) { return null; }
        var lang = document.documentElement.lang || "vi";
        return m.too_many_pixels.replace("{w}", size.w.toLocaleString(lang)).replace("{h}", size.h.toLocaleString(lang));
      }, function () { return null; });  /* what the browser cannot decode, the server judges */
    });
  };

  Loa.uploadFiles = function (url, files, list, onDone) {
    var limits = Loa.uploadLimits();
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
      Loa.checkUpload(file, limits).then(function (problem) {
        if (problem) {
          li.className = "failed refused"; bar.hidden = true;
          status.setAttribute("role", "alert");
          status.textContent = " " + problem + " " + limits.messages.not_sent;
          return;
        }
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
