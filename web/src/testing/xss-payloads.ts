/**
 * A hostile answer for the sanitiser's tests: payloads in the manner of the
 * OWASP XSS Filter Evasion Cheat Sheet
 * (https://cheatsheetseries.owasp.org/cheatsheets/XSS_Filter_Evasion_Cheat_Sheet.html),
 * written out here, each aimed at `beacon` (a URL whose request proves that
 * something ran or loaded) or at `alert`, mixed into Markdown the model
 * might write. @private test support
 */
export function xssPayloads(beacon: string): string[] {
  const b = beacon;
  return [
    `<script>alert(1);fetch("${b}/script")</script>`,
    `<SCRIPT SRC=${b}/xss.js></SCRIPT>`,
    `<IMG SRC="javascript:alert('XSS');">`,
    `<img src=x onerror="fetch('${b}/onerror')">`,
    `<IMG SRC=JaVaScRiPt:alert('XSS')>`,
    `<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>`,
    `<IMG SRC="jav&#x09;ascript:alert('XSS');">`,
    `<img src="${b}/img-plain">`,
    `<svg onload="fetch('${b}/svg')"><circle r="40"/></svg>`,
    `<svg><script>fetch('${b}/svg-script')</script></svg>`,
    `<math><mtext><table><mglyph><style><img src=x onerror="fetch('${b}/mathml')"></style></mglyph></table></mtext></math>`,
    `<BODY ONLOAD=alert('XSS')>`,
    `<iframe src="${b}/iframe"></iframe>`,
    `<iframe srcdoc="<script>parent.fetch('${b}/srcdoc')</script>"></iframe>`,
    `<object data="${b}/object"></object>`,
    `<embed src="${b}/embed">`,
    `<video><source onerror="fetch('${b}/video')"></video>`,
    `<audio src=x onerror="fetch('${b}/audio')"></audio>`,
    `<details open ontoggle="fetch('${b}/ontoggle')">x</details>`,
    `<div style="background-image: url(${b}/css-bg)">styled</div>`,
    `<style>@import '${b}/css-import'; body { background: url(${b}/css-body) }</style>`,
    `<link rel="stylesheet" href="${b}/link.css">`,
    `<meta http-equiv="refresh" content="0;url=${b}/meta">`,
    `<base href="${b}/base/">`,
    `<form action="${b}/form"><input name="q" autofocus onfocus="fetch('${b}/autofocus')"><button>Go</button></form>`,
    `<a href="javascript:fetch('${b}/js-href')">click me</a>`,
    `<a href="  jav\tascript:alert(1)">tab link</a>`,
    `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data link</a>`,
    `<a href="vbscript:msgbox(1)">vb</a>`,
    `<a href="https://example.com/" onmouseover="fetch('${b}/mouseover')" ping="${b}/ping">ping</a>`,
    `<p id="airwaveDemo" name="airwaveDemo">clobber</p>`,
    `<table background="${b}/table-bg"><tr><td>cell</td></tr></table>`,
    `<marquee onstart="fetch('${b}/marquee')">m</marquee>`,
    `<noscript><p title="</noscript><img src=x onerror=fetch('${b}/noscript')>"></noscript>`,
    `<template><img src=x onerror="fetch('${b}/template')"></template>`,
    `[markdown js link](javascript:alert(1))`,
    `[markdown js link, entity](javas&#99;ript:alert(1))`,
    `[markdown data link](data:text/html,<script>alert(1)</script>)`,
    `![markdown image](${b}/md-image)`,
    `![x](x" onerror="fetch('${b}/md-attr'))`,
    `<${b}/autolink>`,
    `\`\`\`html\n<script>fetch('${b}/in-code')</script>\n\`\`\``,
    `\`\`\`"><img src=x onerror=fetch('${b}/fence-info')>\ncode\n\`\`\``,
  ];
}

/**
 * The benign Markdown that must still render next to the payloads: a
 * heading, a list, a table and a highlighted code block.
 */
export const benignMarkdown = [
  "# Safe heading",
  "",
  "- first item",
  "- second item with **bold**",
  "",
  "| name | value |",
  "| --- | --- |",
  "| alpha | 1 |",
  "| beta | 2 |",
  "",
  "```js",
  "function add(a, b) {",
  "  return a + b;",
  "}",
  "```",
  "",
  "A [real link](https://example.com/docs).",
].join("\n");
