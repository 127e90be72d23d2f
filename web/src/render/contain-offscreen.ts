/**
 * Lets the browser skip the rendering work (style, layout, paint) of an
 * element while it is off screen: CSS `content-visibility: auto` with a
 * `contain-intrinsic-size` that stands in for its height until it has been
 * rendered once (`auto`: afterwards the browser remembers the last rendered
 * size, so the scrollbar stays steady).
 * @see https://www.w3.org/TR/css-contain-2/#content-visibility
 * @see https://www.w3.org/TR/css-sizing-4/#intrinsic-size-override
 */

/** Options of {@link containOffscreen}. */
export interface ContainOffscreenOptions {
  /**
   * The height the element is taken to have before it was ever rendered, in
   * CSS pixels (e.g. its text length times a typical height per character).
   * @defaultValue 400
   */
  readonly estimatedHeightPx?: number | undefined;
}

/**
 * Sets `content-visibility: auto` and `contain-intrinsic-size: auto
 * <estimate>px` on `el` (inline style), so that while `el` is off screen it
 * costs no layout or paint: for the message elements of a long conversation,
 * and (done by {@link createMarkdownView}) for the finished parts of a long
 * answer. Its content stays in the DOM: find-in-page, selection and
 * accessibility still see it. Browsers without `content-visibility` ignore
 * the declarations. Any `estimatedHeightPx` below 1 is taken as 1.
 *
 * @example
 * ```ts
 * for (const m of messages) list.append(containOffscreen(renderMessage(m), { estimatedHeightPx: 300 }));
 * ```
 * @returns `el`
 */
export function containOffscreen<E extends HTMLElement>(el: E, o: ContainOffscreenOptions = {}): E {
  const h = Math.max(1, Math.round(o.estimatedHeightPx ?? 400));
  el.style.setProperty("content-visibility", "auto");
  el.style.setProperty("contain-intrinsic-size", `auto ${h}px`);
  return el;
}
