/**
 * The one door from model output to the DOM: HTML strings become DOM
 * fragments only through DOMPurify, with a configuration stricter than its
 * default.
 */
import DOMPurify, { type Config } from "dompurify";

/** Turns an HTML string into a sanitised fragment of the window's document. */
export type SanitizeHtml = (html: string) => DocumentFragment;

/**
 * Tags removed with their content on top of DOMPurify's HTML profile:
 * style sheets (CSS injection), forms and controls (phishing, autofill
 * theft), every element that loads a resource by itself (images, media,
 * frames, objects: a request the reader never asked for can leak the
 * conversation to a URL the model chose) and document-level elements.
 */
const forbiddenTags = [
  "style",
  "link",
  "meta",
  "base",
  "form",
  "input",
  "button",
  "select",
  "option",
  "textarea",
  "img",
  "picture",
  "source",
  "video",
  "audio",
  "track",
  "iframe",
  "frame",
  "frameset",
  "object",
  "embed",
  "canvas",
  "map",
  "area",
  "dialog",
  "template",
  "slot",
  "marquee",
];

/**
 * Attributes removed on top of DOMPurify's own rules (which already drop
 * every `on*` handler): inline CSS, ids and names (DOM clobbering of the
 * page's own elements), resource-loading and navigation attributes.
 */
const forbiddenAttributes = ["style", "id", "name", "srcset", "ping", "action", "formaction", "background", "poster", "target", "form"];

/**
 * URLs kept in `href`: http, https, mailto and scheme-less (relative,
 * `#fragment`) ones; DOMPurify tests the value with whitespace and control
 * characters removed, so `java\tscript:` is caught too. Everything else —
 * `javascript:`, `data:`, `vbscript:`, `file:`, `blob:` — is removed.
 */
const allowedUri = /^(?:(?:https?|mailto):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i;

/** Classes the renderer itself produces (code languages, highlight.js tokens); other classes are dropped. */
const allowedClass = /^(?:language-[\w+#.-]{1,40}|hljs(?:-[\w-]{1,40})?)$/;

const config: Config & { RETURN_DOM_FRAGMENT: true } = {
  USE_PROFILES: { html: true }, // no SVG, no MathML
  FORBID_TAGS: forbiddenTags,
  FORBID_ATTR: forbiddenAttributes,
  ALLOWED_URI_REGEXP: allowedUri,
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  SANITIZE_NAMED_PROPS: true,
  RETURN_DOM_FRAGMENT: true,
};

const cache = new WeakMap<object, SanitizeHtml>();

/**
 * A sanitiser bound to `window` (one DOMPurify instance per window, made
 * once). On top of DOMPurify's HTML profile it removes the tags and
 * attributes listed above, keeps only the renderer's own classes, and gives
 * every remaining link `rel="noopener noreferrer nofollow ugc"` and
 * `target="_blank"`. The result
 * is a fragment (DOMPurify's `RETURN_DOM_FRAGMENT`), never a string, so
 * nothing is parsed twice (no mutation XSS between sanitising and
 * inserting).
 *
 * Throws an Error when DOMPurify cannot work in `window` (no DOM
 * implementation): the caller then renders nothing rather than unsanitised
 * HTML.
 *
 * @see https://github.com/cure53/DOMPurify#can-i-configure-dompurify
 */
export function createSanitizer(window: Window): SanitizeHtml {
  const hit = cache.get(window);
  if (hit) return hit;
  const purify = DOMPurify(window as unknown as Parameters<typeof DOMPurify>[0]);
  if (!purify.isSupported) throw new Error("DOMPurify is not supported in this window: refusing to render HTML");
  purify.addHook("uponSanitizeAttribute", (_node, data) => {
    if (data.attrName !== "class") return;
    const kept = data.attrValue.split(/\s+/).filter((c) => allowedClass.test(c));
    if (kept.length === 0) data.keepAttr = false;
    else data.attrValue = kept.join(" ");
  });
  purify.addHook("afterSanitizeAttributes", (node) => {
    if (node.nodeName === "A" && (node as Element).hasAttribute("href")) {
      (node as Element).setAttribute("rel", "noopener noreferrer nofollow ugc");
      (node as Element).setAttribute("target", "_blank"); // never navigates the page showing the stream away
    }
  });
  // Parsed once: with a configuration set, DOMPurify skips parsing the per-call one (the same object, there
  // for the return type), which was a fifth of the view's time (it sanitises its open block on each update).
  purify.setConfig(config);
  const sanitize: SanitizeHtml = (html) => purify.sanitize(html, config);
  cache.set(window, sanitize);
  return sanitize;
}
