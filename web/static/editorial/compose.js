/* The compose page: rich-text editor, channel tabs, live counters and warnings, previews, media picker,
   autosave to the server (with a copy in localStorage so that an ended session or a lost connection loses nothing)
   and the side-by-side view of a stale save. */
(function () {
  "use strict";
  var Loa = window.Loa = window.Loa || {};

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function plain(html) {
    var div = document.createElement("div");
    div.innerHTML = html || "";
    return (div.textContent || "").replace(/\s+/g, " ").trim();
  }
  function chars(s) { return Array.from(s || "").length; }
  function bytes(s) { return new TextEncoder().encode(s || "").length; }
  function splitTags(s) { return (s || "").split(/[,\n]/).map(function (t) { return t.trim(); }).filter(Boolean); }
  function tagsLength(s) {
    var tags = splitTags(s);
    var total = tags.reduce(function (n, t) { return n + chars(t) + (t.indexOf(" ") >= 0 ? 2 : 0); }, 0);
    return total + Math.max(tags.length - 1, 0);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("compose");
    if (!form) { return; }
    var msgs = $(".hidden-messages").dataset;
    var textarea = $("#body_html");
    var editorBox = $(".editor", form);
    var status = $("#save-status");
    var autosaveUrl = form.getAttribute("data-autosave-url");
    var draftKey = form.getAttribute("data-draft-key");
    var paused = form.getAttribute("data-autosave") !== "1";  /* only drafts save themselves */
    var timer = null;
    var videoIds = (form.getAttribute("data-video-ids") || "").split(",").filter(Boolean);

    /* --- editor (Tiptap, vendored as web/static/vendor/tiptap/loa-editor.js) ------------------------------ */
    editorBox.hidden = false;
    textarea.hidden = true;
    var editor = window.LoaEditor.createEditor($(".editor-mount", form), {
      content: textarea.value,
      placeholder: editorBox.dataset.placeholder || "",
      attributes: {role: "textbox", "aria-multiline": "true", "aria-label": editorBox.dataset.label || ""},
      onUpdate: function () { syncBody(); changed(); },
      onSelectionUpdate: function () { markActive(); },
    });
    var editable = editor.view.dom;
    function bodyHTML() { return window.LoaEditor.htmlOf(editor); }
    function syncBody() { textarea.value = bodyHTML(); }
    function setBody(html) { editor.commands.setContent(html || "", {emitUpdate: false}); syncBody(); }
    var commands = {
      bold: function (c) { return c.toggleBold(); },
      italic: function (c) { return c.toggleItalic(); },
      h2: function (c) { return c.toggleHeading({level: 2}); },
      h3: function (c) { return c.toggleHeading({level: 3}); },
      paragraph: function (c) { return c.setParagraph(); },
      bulletList: function (c) { return c.toggleBulletList(); },
      orderedList: function (c) { return c.toggleOrderedList(); },
      blockquote: function (c) { return c.toggleBlockquote(); },
      clear: function (c) { return c.unsetAllMarks().clearNodes(); },
      undo: function (c) { return c.undo(); },
      redo: function (c) { return c.redo(); },
    };
    var active = {bold: ["bold"], italic: ["italic"], h2: ["heading", {level: 2}], h3: ["heading", {level: 3}],
                  bulletList: ["bulletList"], orderedList: ["orderedList"], blockquote: ["blockquote"], link: ["link"]};
    function markActive() {
      $$(".toolbar button[data-cmd]", form).forEach(function (button) {
        var a = active[button.dataset.cmd];
        if (a) { button.setAttribute("aria-pressed", editor.isActive(a[0], a[1]) ? "true" : "false"); }
      });
    }
    $$(".toolbar button[data-cmd]", form).forEach(function (button) {
      /* a click on the toolbar leaves the caret and the selection in the text */
      button.addEventListener("mousedown", function (e) { e.preventDefault(); });
      button.addEventListener("click", function () {
        var cmd = button.dataset.cmd;
        if (cmd === "link") {
          var current = editor.getAttributes("link").href || "https://";
          var href = window.prompt(button.dataset.prompt || msgs.msgLink, current);
          if (href === null) { return; }
          href = href.trim();
          if (!href || href === "https://") {
            editor.chain().focus().extendMarkRange("link").unsetLink().run();
          } else if (/^(https?:\/\/|mailto:)/i.test(href)) {
            editor.chain().focus().extendMarkRange("link").setLink({href: href}).run();
          }
        } else if (commands[cmd]) {
          commands[cmd](editor.chain().focus()).run();
        }
        markActive();
      });
    });
    markActive();

    /* --- tabs -------------------------------------------------------------------------------------------- */
    $$("[role=tab]", form).forEach(function (tab) {
      tab.addEventListener("click", function () {
        $$("[role=tab]", form).forEach(function (t) {
          var on = t === tab;
          t.setAttribute("aria-selected", on ? "true" : "false");
          document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
        });
      });
    });

    /* --- counters, warnings, previews -------------------------------------------------------------------- */
    function count(input) {
      var how = input.dataset.count;
      return how === "bytes" ? bytes(input.value) : how === "tags" ? tagsLength(input.value) : chars(input.value);
    }
    function field(name) { return form.elements.namedItem(name); }
    function coverSrc() { var img = $("#cover-preview"); return img && !img.hidden ? img.src : ""; }
    function refresh() {
      var problems = {facebook: [], youtube: []};
      $$("[data-limit]", form).forEach(function (input) {
        var n = count(input), max = parseInt(input.dataset.limit, 10);
        var out = form.querySelector('output[for="' + input.id + '"]');
        if (out) {
          out.textContent = n.toLocaleString() + " / " + max.toLocaleString();
          out.classList.toggle("over", n > max);
        }
        var kind = (input.name.match(/^variants\.(\w+)\./) || [])[1];
        if (n > max && problems[kind]) { problems[kind].push(msgs.msgTooLong + " (" + input.labels[0].textContent + ")"); }
        if (input.dataset.noAngle && /[<>]/.test(input.value)) { problems.youtube.push(msgs.msgAngle); }
      });
      var yt = field("variants.youtube.title").value + field("variants.youtube.description").value;
      var attached = splitTags(field("media_ids").value);
      if (yt.trim() && !attached.some(function (id) { return videoIds.indexOf(id) >= 0; })) {
        problems.youtube.push(msgs.msgNoVideo);
      }
      Object.keys(problems).forEach(function (kind) {
        var list = $('[data-warnings="' + kind + '"]');
        list.innerHTML = "";
        problems[kind].filter(function (p, i, all) { return all.indexOf(p) === i; }).forEach(function (p) {
          var li = document.createElement("li"); li.textContent = p; list.appendChild(li);
        });
      });
      var title = field("title").value, summary = field("summary").value;
      var web = $('[data-preview="website"]');
      $(".p-title", web).textContent = field("variants.website.title").value || title;
      $(".p-summary", web).textContent = field("variants.website.summary").value || summary;
      $(".p-body", web).innerHTML = bodyHTML();
      var fb = $('[data-preview="facebook"]');
      $(".p-message", fb).textContent = field("variants.facebook.message").value;
      var yp = $('[data-preview="youtube"]');
      $(".p-title", yp).textContent = field("variants.youtube.title").value;
      $(".p-description", yp).textContent = field("variants.youtube.description").value;
      $$(".p-cover").forEach(function (img) { var src = coverSrc(); img.hidden = !src; if (src) { img.src = src; } });
    }

    $$(".fill-from-story", form).forEach(function (button) {
      button.addEventListener("click", function () {
        var title = field("title").value.trim(), summary = field("summary").value.trim();
        var option = field("campaign_id").selectedOptions[0];
        var tags = option && option.dataset.hashtags ? option.dataset.hashtags.split(" ").filter(Boolean)
          .map(function (h) { return "#" + h; }).join(" ") : "";
        if (button.dataset.kind === "facebook") {
          field("variants.facebook.message").value = [title, summary, tags].filter(Boolean).join("\n\n");
        } else {
          if (!field("variants.youtube.title").value) { field("variants.youtube.title").value = Array.from(title).slice(0, 100).join(""); }
          field("variants.youtube.description").value = [summary, tags].filter(Boolean).join("\n\n");
        }
        changed();
      });
    });

    /* --- autosave and the local copy -------------------------------------------------------------------- */
    function values() {
      syncBody();
      var data = {};
      new FormData(form).forEach(function (v, k) { if (k !== "csrf_token" && k !== "action") { data[k] = v; } });
      return data;
    }
    function keepLocal() {
      try { localStorage.setItem(draftKey, JSON.stringify({values: values(), at: Date.now()})); } catch (e) { /* full */ }
    }
    function dropLocal(key) { try { localStorage.removeItem(key || draftKey); } catch (e) { /* ignore */ } }
    function same(a, b) {
      return (a.title || "") === (b.title || "") && (a.summary || "") === (b.summary || "") &&
        plain(a.body_html) === plain(b.body_html) && (a["variants.facebook.message"] || "") === (b["variants.facebook.message"] || "");
    }
    function fill(data) {
      Object.keys(data).forEach(function (k) {
        var el = field(k);
        if (el && k !== "version") { el.value = data[k]; }
      });
      setBody(textarea.value);
    }
    function changed() {
      refresh();
      keepLocal();
      if (paused) { return; }
      clearTimeout(timer);
      timer = setTimeout(autosave, 2500);
    }
    function autosave() {
      var data = values();
      if (!data.title.trim()) { return; }
      status.textContent = msgs.msgSaving;
      Loa.postJSON(autosaveUrl, data).then(function (res) {
        if (res.status === 200 || res.status === 201) {
          field("version").value = res.body.version;
          if (!field("slug").value) { field("slug").value = res.body.slug; }
          if (res.status === 201) {
            dropLocal();
            draftKey = "loa-draft-" + res.body.id;
            autosaveUrl = res.body.autosave_url;
            form.setAttribute("action", res.body.edit_url);
            form.setAttribute("data-autosave-url", autosaveUrl);
            window.history.replaceState(null, "", res.body.edit_url);
          }
          dropLocal();
          status.textContent = msgs.msgSaved.replace("{v}", res.body.version);
        } else if (res.status === 409) {
          showConflict(res.body);
        } else if (res.status === 401) {
          $("#session-ended").hidden = false;
          status.textContent = msgs.msgFailed;
          paused = true;
        } else {
          status.textContent = (res.body && res.body.error && res.body.error.message) || msgs.msgFailed;
        }
      }).catch(function () { status.textContent = msgs.msgFailed; });
    }
    function showConflict(body) {
      paused = true;  /* the person decides: saving again keeps their version */
      field("version").value = body.current.version;
      var box = $("#live-conflict");
      var tbody = $("tbody", box);
      tbody.innerHTML = "";
      (body.conflict || []).forEach(function (row) {
        var tr = document.createElement("tr");
        [row.field, row.mine, row.theirs].forEach(function (text, i) {
          var cell = document.createElement(i === 0 ? "th" : "td");
          cell.textContent = text;
          if (i) { cell.className = i === 1 ? "mine" : "theirs"; }
          tr.appendChild(cell);
        });
        tbody.appendChild(tr);
      });
      box.hidden = false;
      status.textContent = msgs.msgConflict;
    }
    form.addEventListener("input", function (e) { if (!editable.contains(e.target)) { changed(); } });
    form.addEventListener("change", changed);
    form.addEventListener("submit", function () { clearTimeout(timer); syncBody(); keepLocal(); });

    /* A copy kept in this browser (an ended session, a closed tab) comes back; one equal to the saved post goes. */
    try {
      var current = values();
      if (draftKey !== "loa-draft-new") {
        var fresh = JSON.parse(localStorage.getItem("loa-draft-new") || "null");
        if (fresh && same(fresh.values, current)) { dropLocal("loa-draft-new"); }
      }
      var kept = JSON.parse(localStorage.getItem(draftKey) || "null");
      if (kept && kept.values) {
        if (same(kept.values, current)) { dropLocal(); } else { fill(kept.values); $("#restored").hidden = false; }
      }
    } catch (e) { /* storage unavailable */ }

    /* --- media picker ------------------------------------------------------------------------------------ */
    var dialog = $("#media-picker");
    var grid = $("#picker-grid");
    var target = "body";
    function rendition(item, names) {
      for (var i = 0; i < names.length; i++) { if (item.renditions[names[i]]) { return item.renditions[names[i]].url; } }
      return item.url;
    }
    function choose(item) {
      if (item.kind !== "image") {
        var ids = splitTags(field("media_ids").value);
        if (ids.indexOf(String(item.id)) < 0) { ids.push(String(item.id)); }
        field("media_ids").value = ids.join(", ");
        videoIds.push(String(item.id));
      } else if (target === "cover") {
        field("cover_media_id").value = item.id;
        var img = $("#cover-preview");
        img.src = rendition(item, ["w480", "w960"]); img.hidden = false;
      } else {
        editor.chain().focus().insertFigure({src: rendition(item, ["w960", "w480"]), alt: item.alt_text || "",
          mediaId: String(item.id), caption: $("#picker-caption").value || item.caption || ""}).run();
        syncBody();
      }
      dialog.close();
      changed();
    }
    function loadLibrary() {
      fetch(form.getAttribute("data-library-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); }).then(function (data) {
          grid.innerHTML = "";
          data.items.forEach(function (item) {
            var li = document.createElement("li");
            var button = document.createElement("button");
            button.type = "button";
            button.className = "media-choice";
            button.setAttribute("data-media-id", item.id);
            if (item.kind === "image") {
              var img = document.createElement("img");
              img.src = rendition(item, ["w480"]); img.alt = item.alt_text || "";
              button.appendChild(img);
            } else {
              button.appendChild(document.createTextNode("🎬 "));
            }
            var label = document.createElement("span");
            label.textContent = item.caption || item.filename;
            button.appendChild(label);
            button.addEventListener("click", function () { choose(item); });
            li.appendChild(button);
            grid.appendChild(li);
          });
        }).catch(function () { grid.innerHTML = ""; });
    }
    $$(".pick-media", form).forEach(function (button) {
      button.addEventListener("click", function () {
        target = button.dataset.target;
        loadLibrary();
        dialog.showModal();
      });
    });
    $("#picker-close").addEventListener("click", function () { dialog.close(); });
    $("#picker-upload").addEventListener("change", function (e) {
      Loa.uploadFiles(form.getAttribute("data-upload-url"), e.target.files, $("#picker-progress"), loadLibrary);
      e.target.value = "";
    });
    $("#cover-clear").addEventListener("click", function () {
      field("cover_media_id").value = ""; $("#cover-preview").hidden = true; changed();
    });

    refresh();
  });
})();
