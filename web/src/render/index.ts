/**
 * Rendering model output: a streaming Markdown view (marked, linear in the
 * answer's length), code highlighting loaded lazily (highlight.js), and the
 * one sanitiser (DOMPurify) every HTML string passes before the DOM.
 */
export { completeTail, pendingHref } from "./complete-tail.js";
export { type ContainOffscreenOptions, containOffscreen } from "./contain-offscreen.js";
export { highlightLoaded, languageOf, loadLanguage } from "./highlight-code.js";
export { createMarkdownView, type MarkdownView, type MarkdownViewOptions, type MarkdownViewStats } from "./markdown-view.js";
export { createSanitizer, type SanitizeHtml } from "./sanitize-html.js";
