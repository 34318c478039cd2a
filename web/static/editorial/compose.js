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
    var attached = [];  /* the post's media as the library describes them, in order */
    try { attached = JSON.parse(form.getAttribute("data-attached") || "[]"); } catch (e) { attached = []; }

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
    /* Numbers in the page's language ("1.000" in Vietnamese), whatever the browser's own locale is. */
    var pageLang = document.documentElement.lang || "vi";
    var counterNumber = new Intl.NumberFormat(pageLang === "vi" ? "vi-VN" : pageLang);
    function field(name) { return form.elements.namedItem(name); }
    function coverSrc() { var img = $("#cover-preview"); return img && !img.hidden ? img.src : ""; }
    function refresh() {
      var problems = {};
      $$(".channel-media", form).forEach(function (box) { problems[box.dataset.kind] = []; });
      $$("[data-limit]", form).forEach(function (input) {
        var n = count(input), max = parseInt(input.dataset.limit, 10);
        var out = form.querySelector('output[for="' + input.id + '"]');
        if (out) {
          out.textContent = counterNumber.format(n) + " / " + counterNumber.format(max);
          out.classList.toggle("over", n > max);
        }
        var kind = (input.name.match(/^variants\.(\w+)\./) || [])[1];
        if (n > max && problems[kind]) { problems[kind].push(msgs.msgTooLong + " (" + input.labels[0].textContent + ")"); }
      });
      /* characters a platform refuses in a field (its description's rule) */
      $$("[data-forbidden]", form).forEach(function (input) {
        var kind = (input.name.match(/^variants\.(\w+)\./) || [])[1];
        var bad = Array.from(input.dataset.forbidden).some(function (c) { return input.value.indexOf(c) >= 0; });
        if (bad && problems[kind]) { problems[kind].push(input.dataset.forbiddenMsg); }
      });
      mediaProblems(problems);
      Object.keys(problems).forEach(function (kind) {
        var list = $('[data-warnings="' + kind + '"]');
        list.innerHTML = "";
        problems[kind].filter(function (p, i, all) { return all.indexOf(p) === i; }).forEach(function (p) {
          var li = document.createElement("li"); li.textContent = p; list.appendChild(li);
        });
      });
      /* each preview slot shows its channel's field that feeds it (the description's ``preview``), or the story's */
      $$("[data-preview]", form).forEach(function (preview) {
        var kind = preview.dataset.preview;
        $$("[data-slot]", preview).forEach(function (slot) {
          var source = form.querySelector('[name^="variants.' + kind + '."][data-preview-slot="' + slot.dataset.slot + '"]');
          var fallback = slot.dataset.fallback ? field(slot.dataset.fallback).value : "";
          slot.textContent = (source && source.value) || fallback;
        });
        $$(".p-body", preview).forEach(function (body) { body.innerHTML = bodyHTML(); });
        /* a card shows the media its tab ticked; a video preview its thumbnail */
        $$("[data-preview-media]", preview).forEach(function (box) {
          box.innerHTML = "";
          chosen(kind).map(byId).filter(Boolean).forEach(function (item) { box.appendChild(thumbNode(item)); });
          box.classList.toggle("many", box.children.length > 1);
        });
        $$(".yt-thumb", preview).forEach(function (thumb) {
          var ids = chosen(kind).map(byId).filter(Boolean);
          var picture = ids.filter(function (m) { return m.kind === "image"; })[0] ||
            ids.filter(function (m) { return m.kind === "video"; })[0];
          var src = picture ? thumbOf(picture) : "";
          thumb.hidden = !src;
          if (src) { thumb.src = src; }
        });
      });
      $$(".p-cover").forEach(function (img) { var src = coverSrc(); img.hidden = !src; if (src) { img.src = src; } });
    }

    $$(".fill-from-story", form).forEach(function (button) {
      button.addEventListener("click", function () {
        var title = field("title").value.trim(), summary = field("summary").value.trim();
        var option = field("campaign_id").selectedOptions[0];
        var tags = option && option.dataset.hashtags ? option.dataset.hashtags.split(" ").filter(Boolean)
          .map(function (h) { return "#" + h; }).join(" ") : "";
        /* each field of the tab says what it takes from the story (its description's ``fill``) */
        $$('[name^="variants.' + button.dataset.kind + '."][data-fill]', form).forEach(function (input) {
          var how = input.dataset.fill;
          if (how === "story") { input.value = [title, summary, tags].filter(Boolean).join("\n\n"); }
          else if (how === "summary") { input.value = [summary, tags].filter(Boolean).join("\n\n"); }
          else if (how === "title" && !input.value) {
            var max = parseInt(input.dataset.limit || "0", 10);
            input.value = max ? Array.from(title).slice(0, max).join("") : title;
          }
        });
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
        plain(a.body_html) === plain(b.body_html) && $$("[data-fill=story]", form).every(function (input) {
          return (a[input.name] || "") === (b[input.name] || "");
        });
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

    /* --- attached media and each channel's choice of them --------------------------------------------------- */
    /* each channel's media rules, as its description gives them (the tab's chooser carries them) */
    function rulesOf(kind) {
      var box = form.querySelector('.channel-media[data-kind="' + kind + '"]'), d = box.dataset;
      function limit(v) { return v === "" ? Infinity : parseInt(v, 10); }
      return {box: box, mix: d.mix === "1", linkWithMedia: d.linkWithMedia === "1", needsVideo: d.needsVideo === "1",
              maxImages: limit(d.maxImages), maxVideos: limit(d.maxVideos), accepts: d.accepts.split(" ")};
    }
    var KINDS = $$(".channel-media", form).map(function (box) { return box.dataset.kind; });
    function byId(id) { return attached.filter(function (m) { return String(m.id) === String(id); })[0]; }
    function thumbOf(item) {
      var r = item.renditions || {};
      var pick = item.kind === "image" ? (r.w480 || r.w960) : (r.poster_w480 || r.poster);
      return pick ? pick.url : "";
    }
    function chosen(kind) { return splitTags(field("variants." + kind + ".media_ids").value); }
    function setChosen(kind, ids) { field("variants." + kind + ".media_ids").value = ids.join(", "); }
    function kindsOf(ids) {
      var out = {image: 0, video: 0};
      ids.forEach(function (id) { var m = byId(id); if (m) { out[m.kind === "video" ? "video" : "image"] += 1; } });
      return out;
    }
    /* A newly attached medium is ticked where the channel's rule allows it. */
    function autoChoose(item) {
      var id = String(item.id), video = item.kind === "video";
      KINDS.forEach(function (kind) {
        var ids = chosen(kind), have = kindsOf(ids);
        if (ids.indexOf(id) >= 0) { return; }
        var r = rulesOf(kind);
        var take = r.accepts.indexOf(video ? "video" : "image") >= 0 && (video
          ? have.video < r.maxVideos && (r.mix || have.image === 0)
          : have.image < r.maxImages && (r.mix || have.video === 0));
        if (take) { ids.push(id); setChosen(kind, ids); }
      });
    }
    function attach(item) {
      if (byId(item.id)) { return; }
      attached.push(item);
      var ids = splitTags(field("media_ids").value);
      if (ids.indexOf(String(item.id)) < 0) { ids.push(String(item.id)); }
      field("media_ids").value = ids.join(", ");
      autoChoose(item);
      drawMedia();
    }
    function removeFigures(id) {
      var doomed = [];
      editor.state.doc.descendants(function (node, pos) {
        if (node.type.name === "figure" && String(node.attrs.mediaId) === String(id)) { doomed.push({pos: pos, size: node.nodeSize}); }
      });
      if (!doomed.length) { return; }
      var tr = editor.state.tr;
      doomed.reverse().forEach(function (d) { tr.delete(d.pos, d.pos + d.size); });
      editor.view.dispatch(tr);
    }
    function detach(id) {
      id = String(id);
      attached = attached.filter(function (m) { return String(m.id) !== id; });
      field("media_ids").value = splitTags(field("media_ids").value).filter(function (x) { return x !== id; }).join(", ");
      KINDS.forEach(function (kind) { setChosen(kind, chosen(kind).filter(function (x) { return x !== id; })); });
      if (field("cover_media_id").value === id) { field("cover_media_id").value = ""; $("#cover-preview").hidden = true; }
      removeFigures(id);
      syncBody();
      drawMedia();
    }
    function replace(oldId, item) {
      oldId = String(oldId);
      var newId = String(item.id), old = byId(oldId);
      if (!old || newId === oldId) { return; }
      var sameKind = old.kind === item.kind;
      attached = attached.map(function (m) { return String(m.id) === oldId ? item : m; })
        .filter(function (m, i, all) { return all.indexOf(m) === i; });
      field("media_ids").value = splitTags(field("media_ids").value).map(function (x) { return x === oldId ? newId : x; })
        .filter(function (x, i, all) { return all.indexOf(x) === i; }).join(", ");
      KINDS.forEach(function (kind) {
        var ids = chosen(kind), at = ids.indexOf(oldId);
        if (at >= 0 && sameKind) { ids[at] = newId; } else if (at >= 0) { ids.splice(at, 1); }
        setChosen(kind, ids.filter(function (x, i, all) { return all.indexOf(x) === i; }));
      });
      if (!sameKind) { autoChoose(item); }
      if (item.kind === "image") {
        var tr = editor.state.tr, touched = false;
        editor.state.doc.descendants(function (node, pos) {
          if (node.type.name === "figure" && String(node.attrs.mediaId) === oldId) {
            tr.setNodeMarkup(pos, null, {src: rendition(item, ["w960", "w480"]), alt: item.alt_text || "", mediaId: newId});
            touched = true;
          }
        });
        if (touched) { editor.view.dispatch(tr); }
      } else {
        removeFigures(oldId);
      }
      syncBody();
      drawMedia();
    }
    function inText(id) {
      var found = false;
      editor.state.doc.descendants(function (node) {
        if (node.type.name === "figure" && String(node.attrs.mediaId) === String(id)) { found = true; }
      });
      return found;
    }
    function mediaLabel(item) { return item.caption || item.filename || ("#" + item.id); }
    function thumbNode(item) {
      var src = thumbOf(item);
      if (src) {
        var img = document.createElement("img");
        img.src = src; img.alt = item.alt_text || ""; img.className = "thumb"; img.loading = "lazy";
        return img;
      }
      var span = document.createElement("span");
      span.className = "thumb thumb-none"; span.textContent = item.kind === "video" ? "▶" : "🖼";
      span.title = msgs.msgNoPoster;
      return span;
    }
    function badge(item) {
      var b = document.createElement("span");
      b.className = "badge media-kind media-kind-" + item.kind;
      b.textContent = item.kind === "video" ? msgs.msgVideo : msgs.msgPicture;
      return b;
    }
    var resolving = false;
    function drawMedia() {
      var ids = splitTags(field("media_ids").value);
      attached = attached.filter(function (m) { return ids.indexOf(String(m.id)) >= 0; });
      var unknown = ids.filter(function (id) { return !byId(id); });
      if (unknown.length && !resolving) {  /* e.g. restored from this browser's copy: ask the library about them */
        resolving = true;
        fetch(form.getAttribute("data-library-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
          .then(function (r) { return r.json(); }).then(function (data) {
            data.items.forEach(function (item) { if (unknown.indexOf(String(item.id)) >= 0 && !byId(item.id)) { attached.push(item); } });
            var order = splitTags(field("media_ids").value);
            attached.sort(function (a, b) { return order.indexOf(String(a.id)) - order.indexOf(String(b.id)); });
            drawMedia(); refresh();
          }).catch(function () { /* shown once the library answers again */ });
      }
      var list = $("#attached-list");
      list.innerHTML = "";
      attached.forEach(function (item) {
        var li = document.createElement("li");
        li.className = "attached-item";
        li.setAttribute("data-media-id", item.id);
        li.appendChild(thumbNode(item));
        var text = document.createElement("span");
        text.className = "attached-label";
        text.appendChild(badge(item));
        text.appendChild(document.createTextNode(" " + mediaLabel(item)));
        if (inText(item.id)) {
          var where = document.createElement("small"); where.className = "muted"; where.textContent = " · " + msgs.msgInText;
          text.appendChild(where);
        }
        li.appendChild(text);
        var actions = document.createElement("span");
        actions.className = "attached-actions";
        var rep = document.createElement("button");
        rep.type = "button"; rep.className = "replace-media"; rep.textContent = msgs.msgReplace;
        rep.setAttribute("aria-label", msgs.msgReplace + ": " + mediaLabel(item));
        rep.addEventListener("click", function () { openPicker("replace:" + item.id); });
        var del = document.createElement("button");
        del.type = "button"; del.className = "remove-media"; del.textContent = msgs.msgRemove;
        del.setAttribute("aria-label", msgs.msgRemove + ": " + mediaLabel(item));
        del.addEventListener("click", function () { detach(item.id); changed(); });
        actions.appendChild(rep); actions.appendChild(del);
        li.appendChild(actions);
        list.appendChild(li);
      });
      $("#attached-empty").hidden = attached.length > 0;
      $$(".channel-media", form).forEach(function (box) {
        var kind = box.dataset.kind, ids = chosen(kind);
        var ul = $(".channel-media-list", box);
        ul.innerHTML = "";
        attached.forEach(function (item) {
          var li = document.createElement("li");
          var label = document.createElement("label");
          label.className = "channel-media-choice";
          var box2 = document.createElement("input");
          box2.type = "checkbox"; box2.value = item.id;
          box2.checked = ids.indexOf(String(item.id)) >= 0;
          box2.setAttribute("data-media-id", item.id);
          box2.addEventListener("change", function () {
            var now = chosen(kind).filter(function (x) { return x !== String(item.id); });
            if (box2.checked) {
              /* keep the post's order */
              now.push(String(item.id));
              var order = attached.map(function (m) { return String(m.id); });
              now.sort(function (a, b) { return order.indexOf(a) - order.indexOf(b); });
            }
            setChosen(kind, now);
            changed();
          });
          label.appendChild(box2);
          label.appendChild(thumbNode(item));
          label.appendChild(badge(item));
          label.appendChild(document.createTextNode(" " + mediaLabel(item)));
          li.appendChild(label);
          ul.appendChild(li);
        });
        $(".empty", box).hidden = attached.length > 0;
      });
    }
    /* Each channel's rule, checked live on what its tab chose (the adapters check again when scheduling). */
    function mediaProblems(problems) {
      var mediaMessages = [];
      KINDS.forEach(function (kind) {
        var r = rulesOf(kind), d = r.box.dataset, have = kindsOf(chosen(kind)), found = [];
        if (!r.mix && have.image && have.video) { found.push(d.msgMix); }
        if (have.video > r.maxVideos) { found.push(d.msgVideos); }
        if (have.image > r.maxImages) { found.push(d.msgImages); }
        var inputs = $$('[name^="variants.' + kind + '."]', form).filter(function (el) {
          return el.type !== "hidden" && el.tagName !== "SELECT";
        });
        var linked = inputs.some(function (el) { return el.dataset.link && el.value.trim(); });
        if (!r.linkWithMedia && (have.image || have.video) && linked) { found.push(d.msgLink); }
        var written = inputs.some(function (el) { return el.value.trim(); });
        if (r.needsVideo && written && !have.video) { found.push(d.msgNeedsVideo); }
        found.filter(Boolean).forEach(function (p) { problems[kind].push(p); mediaMessages.push(p); });
      });
      $$(".channel-media", form).forEach(function (box) {
        var rule = $(".channel-rule", box);
        if (!rule) { return; }
        var bad = (problems[box.dataset.kind] || []).some(function (p) { return mediaMessages.indexOf(p) >= 0; });
        rule.classList.toggle("rule-broken", bad);
        rule.classList.toggle("rule-ok", !bad && attached.length > 0);
      });
    }

    /* --- media picker ------------------------------------------------------------------------------------ */
    var dialog = $("#media-picker");
    var grid = $("#picker-grid");
    var target = "body";
    function rendition(item, names) {
      for (var i = 0; i < names.length; i++) { if (item.renditions[names[i]]) { return item.renditions[names[i]].url; } }
      return item.url;
    }
    function choose(item) {
      if (target.indexOf("replace:") === 0) {
        replace(target.slice(8), item);
      } else if (item.kind !== "image" || target === "attach") {
        attach(item);
      } else if (target === "cover") {
        field("cover_media_id").value = item.id;
        var img = $("#cover-preview");
        img.src = rendition(item, ["w480", "w960"]); img.hidden = false;
      } else {
        editor.chain().focus().insertFigure({src: rendition(item, ["w960", "w480"]), alt: item.alt_text || "",
          mediaId: String(item.id), caption: $("#picker-caption").value || item.caption || ""}).run();
        syncBody();
        attach(item);
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
            button.setAttribute("data-kind", item.kind);
            button.appendChild(thumbNode(item));
            if (item.kind === "video") { button.appendChild(badge(item)); }
            var label = document.createElement("span");
            label.textContent = item.caption || item.filename;
            button.appendChild(label);
            button.addEventListener("click", function () { choose(item); });
            li.appendChild(button);
            grid.appendChild(li);
          });
        }).catch(function () { grid.innerHTML = ""; });
    }
    function openPicker(what) {
      target = what;
      loadLibrary();
      dialog.showModal();
    }
    $$(".pick-media", form).forEach(function (button) {
      button.addEventListener("click", function () { openPicker(button.dataset.target); });
    });
    $("#picker-close").addEventListener("click", function () { dialog.close(); });
    $("#picker-upload").addEventListener("change", function (e) {
      Loa.uploadFiles(form.getAttribute("data-upload-url"), e.target.files, $("#picker-progress"), loadLibrary);
      e.target.value = "";
    });
    $("#cover-clear").addEventListener("click", function () {
      field("cover_media_id").value = ""; $("#cover-preview").hidden = true; changed();
    });

    drawMedia();
    refresh();
  });
})();
