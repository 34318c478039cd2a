/* Loa's rich-text editor: Tiptap (ProseMirror) with StarterKit, links and figures with captions, built once into
   ../loa-editor.js (see ../README.md). Produces only markup that Loa's sanitiser (publisher/content/sanitize.py)
   keeps as it is: <p>, <h2>, <h3>, <strong>, <em>, <u>, <s>, <a href rel>, <ul>/<ol>/<li>, <blockquote>, <hr>,
   <br>, <figure data-media-id><img src alt data-media-id><figcaption>…</figcaption></figure>. */
import { Editor, Node } from "@tiptap/core";
import StarterKit from "@tiptap/starter-kit";
import Link from "@tiptap/extension-link";
import Placeholder from "@tiptap/extension-placeholder";

const SAFE_URL = /^(https?:\/\/|mailto:|\/(?!\/))/i;

/* A link renders exactly as the sanitiser writes it: href (and title) first, then rel="noopener noreferrer". */
const SafeLink = Link.extend({
  renderHTML({ HTMLAttributes }) {
    const attrs = { href: SAFE_URL.test(HTMLAttributes.href || "") ? HTMLAttributes.href : "" };
    if (HTMLAttributes.title) { attrs.title = HTMLAttributes.title; }
    attrs.rel = "noopener noreferrer";
    return ["a", attrs, 0];
  },
});

function imgOf(el) { return el.tagName === "IMG" ? el : el.querySelector("img"); }

/* A picture from the media library with its caption (the caption is editable text). */
const Figure = Node.create({
  name: "figure",
  group: "block",
  content: "inline*",
  marks: "",
  draggable: true,
  isolating: true,
  defining: true,
  addAttributes() {
    return {
      src: { default: null, parseHTML: (el) => (imgOf(el) ? imgOf(el).getAttribute("src") : null) },
      alt: { default: "", parseHTML: (el) => (imgOf(el) ? imgOf(el).getAttribute("alt") || "" : "") },
      mediaId: {
        default: null,
        parseHTML: (el) => el.getAttribute("data-media-id") || (imgOf(el) && imgOf(el).getAttribute("data-media-id")) || null,
      },
    };
  },
  parseHTML() {
    return [
      {
        tag: "figure",
        getAttrs: (el) => (imgOf(el) && imgOf(el).getAttribute("src") ? null : false),
        contentElement: (el) => el.querySelector("figcaption") || document.createElement("figcaption"),
      },
      /* a picture on its own (pasted, or older text) becomes a figure without caption */
      { tag: "img[src]", getAttrs: (el) => (SAFE_URL.test(el.getAttribute("src") || "") ? null : false),
        contentElement: () => document.createElement("figcaption") },
    ];
  },
  renderHTML({ node }) {
    const id = node.attrs.mediaId;
    const img = { src: node.attrs.src, alt: node.attrs.alt || "" };
    if (id) { img["data-media-id"] = String(id); }
    return ["figure", id ? { "data-media-id": String(id) } : {}, ["img", img], ["figcaption", 0]];
  },
  addCommands() {
    return {
      insertFigure: (attrs) => ({ chain }) => chain()
        .insertContent([{ type: this.name, attrs: { src: attrs.src, alt: attrs.alt || "", mediaId: attrs.mediaId || null },
          content: attrs.caption ? [{ type: "text", text: attrs.caption }] : [] }, { type: "paragraph" }])
        .run(),
    };
  },
});

/* What office programs add around pasted text that is no part of the text: conditional comments, Word's <o:p>,
   <style> blocks, Google Docs' outer <b id="docs-internal-guid-…"> (its bold rule already ignores it). */
function cleanPasted(html) {
  return html
    .replace(/<!--\[if[\s\S]*?<!\[endif\]-->/gi, "")
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<\/?o:p[^>]*>/gi, "")
    .replace(/<style[\s\S]*?<\/style>/gi, "")
    .replace(/<(\/?)h1(\s[^>]*)?>/gi, "<$1h2>")
    .replace(/<(\/?)h[4-6](\s[^>]*)?>/gi, "<$1h3>");
}

/* The page's CSP forbids inline styles, and parsing pasted markup with style attributes in it would break that rule:
   they are renamed before anything parses them, and the few that mean something in a text become tags (bold,
   italic, underline; Google Docs' whole-document <b style="font-weight:normal"> is unwrapped). */
function stylesToTags(html) {
  const renamed = html.replace(/(<[a-z][^>]*?\s)style(\s*=)/gi, "$1data-style$2");
  const doc = new DOMParser().parseFromString(renamed, "text/html");
  doc.querySelectorAll("[data-style]").forEach((el) => {
    const style = (el.getAttribute("data-style") || "").toLowerCase().replace(/\s+/g, "");
    el.removeAttribute("data-style");
    const tag = el.tagName.toLowerCase();
    if ((tag === "b" || tag === "strong") && /font-weight:(normal|[1-4]00)(;|$)/.test(style)) {
      el.replaceWith(...el.childNodes);
      return;
    }
    const wraps = [];
    if (/font-weight:(bold|bolder|[6-9]00)(;|$)/.test(style) && tag !== "b" && tag !== "strong" && !/^h\d$/.test(tag)) { wraps.push("strong"); }
    if (/font-style:italic/.test(style) && tag !== "i" && tag !== "em") { wraps.push("em"); }
    if (/text-decoration[^;]*underline/.test(style) && tag !== "u") { wraps.push("u"); }
    wraps.forEach((name) => {
      const wrap = doc.createElement(name);
      while (el.firstChild) { wrap.appendChild(el.firstChild); }
      el.appendChild(wrap);
    });
  });
  return doc.body.innerHTML;
}

/* Empty paragraphs Word and Docs use as spacing are dropped; a paragraph break is the spacing. */
function dropEmptyParagraphs(html) {
  return html.replace(/<p(\s[^>]*)?>(\s|&nbsp;|\u00a0|<br\s*\/?>|<span[^>]*>(\s|&nbsp;|\u00a0)*<\/span>)*<\/p>/gi, "");
}

export function createEditor(element, options) {
  options = options || {};
  return new Editor({
    element,
    content: options.content || "",
    injectCSS: false, /* the admin's CSP allows no inline styles: the editor's CSS is in loa.css */
    editorProps: {
      attributes: Object.assign({ class: "editable" }, options.attributes || {}),
      transformPastedHTML: (html) => dropEmptyParagraphs(stylesToTags(cleanPasted(html))),
    },
    extensions: [
      StarterKit.configure({
        heading: { levels: [2, 3] },
        code: false,
        codeBlock: false,
        link: false,
      }),
      SafeLink.configure({ openOnClick: false, autolink: true, defaultProtocol: "https",
        protocols: ["http", "https", "mailto"] }),
      Figure,
      Placeholder.configure({ placeholder: options.placeholder || "" }),
    ],
    onUpdate: options.onUpdate,
    onSelectionUpdate: options.onSelectionUpdate,
  });
}

/* The HTML the editor stores: an empty editor is "", not "<p></p>", and the empty paragraph the editor keeps at the
   end (to type after a list or a picture) is not part of the text. */
export function htmlOf(editor) {
  return editor.isEmpty ? "" : editor.getHTML().replace(/(<p><\/p>)+$/, "");
}

export const version = "tiptap 3.35.0";
