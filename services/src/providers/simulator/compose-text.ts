import type { Rng } from "./prng.js";

/** Sentence templates; `{a}` and `{b}` are filled with prompt keywords. */
export interface TextStyle {
  /** Templates for the first sentence (introduces the topic `{a}`). */
  readonly openers: readonly string[];
  /** Templates for the following sentences. */
  readonly sentences: readonly string[];
  /** Connective phrases put before some following sentences. */
  readonly connectives: readonly string[];
}

/** The style of answers. */
export const answerStyle: TextStyle = {
  openers: ["Let's start with {a}.", "{a} is worth looking at closely.", "Here is a short overview of {a}.", "Good question about {a}."],
  sentences: [
    "At its core, {a} is about {b}.",
    "A useful way to think about {a} is through {b}.",
    "When people ask about {a}, they often mean {b}.",
    "{a} and {b} are closely connected.",
    "It helps to separate {a} from {b}.",
    "The key point about {a} is how it shapes {b}.",
    "One common approach to {a} starts with {b}.",
    "Much depends on how {a} relates to {b}.",
    "In most cases, {a} comes down to {b}.",
    "Looking at {b} first often makes {a} easier to follow.",
    "The details of {a} matter less than the overall picture of {b}.",
  ],
  connectives: [
    "First,",
    "Moreover,",
    "In practice,",
    "On the other hand,",
    "As a result,",
    "For example,",
    "That said,",
    "In other words,",
    "Also,",
    "Still,",
    "Finally,",
  ],
};

/** The style of reasoning ("thinking") text. */
export const reasoningStyle: TextStyle = {
  openers: ["The user is asking about {a}.", "Okay, the question is about {a}.", "Let me think about {a}."],
  sentences: [
    "I should consider how {a} relates to {b}.",
    "Maybe {b} matters more here.",
    "I need to check what {a} implies for {b}.",
    "A clear answer should mention {a} and {b}.",
    "Wait, {b} might change the picture.",
    "So the answer should cover {a} first.",
    "Is {a} really the main point, or is it {b}?",
  ],
  connectives: ["Hmm,", "Also,", "Then", "But", "So", "Actually,"],
};

const stopWords = new Set(
  (
    "a an the and or but if then else of to in on at by for with from into onto about above below over under " +
    "is are was were be been being am do does did done have has had having can could would should will shall may might must " +
    "i me my mine we us our you your yours he him his she her it its they them their this that these those there here " +
    "what which who whom whose why how when where please tell explain describe write give show make let lets " +
    "call use using invoke run tool tools function functions some any all each every more most very just also not no yes " +
    "as so than too out up down again once only own same such both few other another something anything thing things " +
    "hello hi hey thanks thank want need like know get got"
  ).split(" "),
);

/** Longest word taken as a keyword, in UTF-16 code units; longer "words" (a pasted blob) are skipped, so no token of an answer is longer than this plus its punctuation. */
export const maxKeywordChars = 64;

/**
 * Longest prefix of a text the simulator reads for its keywords and counts
 * token by token, in UTF-16 code units: a 1 MiB prompt costs the same
 * synchronous work as a 16 KiB one (under a millisecond), so it cannot
 * stall the event loop.
 */
export const maxScannedChars = 16 * 1024;

/**
 * Picks the topic words of a text: words of 3 to {@link maxKeywordChars}
 * characters (any number) that are not common English function words,
 * deduplicated case-insensitively, in order of first appearance. The first
 * word of the text is lowercased unless it is an acronym. Stops reading at
 * the `max`-th keyword, or after the first {@link maxScannedChars}
 * characters.
 *
 * @param max - the most keywords returned.
 */
export function promptKeywords(text: string, max = 12): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let i = 0;
  for (const [w] of text.slice(0, maxScannedChars).matchAll(/[\p{L}\p{N}][\p{L}\p{N}'’_-]*/gu)) {
    if (out.length >= max) break;
    const first = i++ === 0;
    const word = w.replace(/['’_-]+$/u, "");
    const lower = word.toLowerCase();
    const isNumber = /^\p{N}+$/u.test(word);
    if ((!isNumber && word.length < 3) || word.length > maxKeywordChars || stopWords.has(lower) || seen.has(lower)) continue;
    seen.add(lower);
    out.push(first && word !== word.toUpperCase() ? lower : word);
  }
  return out;
}

/**
 * Composes word-ish tokens of text: sentences built from `style`'s
 * templates filled with `keywords`, some led by a connective, in paragraphs
 * of 2 to 4 sentences. Each token is one word with its leading whitespace
 * (`" word"`, or `"\n\nWord"` at a paragraph start); the first token has none.
 *
 * `length: "exact"` gives exactly `count` tokens (when `count` falls inside a
 * sentence, the last token gets a period); `"sentences"` finishes the
 * sentence in which `count` is reached, so the text ends cleanly.
 *
 * Lazy: a sentence is composed (and `rng` advanced) only when its first
 * token is pulled, so an answer of millions of tokens is never held whole.
 * Pure: the same `rng` state, keywords, count and length give the same tokens.
 */
export function* composeTokenStream(
  rng: Rng,
  keywords: readonly string[],
  count: number,
  style: TextStyle,
  length: "exact" | "sentences" = "exact",
): Generator<string, void, undefined> {
  const words = keywords.length > 0 ? keywords : ["this question", "the details"];
  let n = 0;
  let sentenceInParagraph = 0;
  let paragraphLength = rng.int(2, 4);
  while (n < count) {
    const first = n === 0;
    const a = first ? (words[0] as string) : rng.pick(words);
    const b = words.length > 1 ? rng.pick(words.filter((w) => w !== a)) : a;
    const template = rng.pick(first ? style.openers : style.sentences);
    let sentence = template.replace("{a}", a).replace("{b}", b);
    if (!first && rng.next() < 0.45) {
      const startsWithSlot = template.startsWith("{");
      sentence = `${rng.pick(style.connectives)} ${startsWithSlot ? sentence : lowerFirst(sentence)}`;
    } else {
      sentence = upperFirst(sentence);
    }
    const newParagraph = sentenceInParagraph === paragraphLength;
    if (newParagraph) {
      sentenceInParagraph = 0;
      paragraphLength = rng.int(2, 4);
    }
    sentenceInParagraph++;
    const sentenceWords = sentence.split(" ");
    for (let i = 0; i < sentenceWords.length; i++) {
      if (length === "exact" && n === count) return;
      const lead = n === 0 ? "" : i === 0 && newParagraph ? "\n\n" : " ";
      const token = lead + sentenceWords[i];
      n++;
      // The last token of an exact length ends the text with a period.
      yield length === "exact" && n === count && !/[.!?]$/.test(token) ? `${token.replace(/[,;:]$/, "")}.` : token;
    }
  }
}

/** {@link composeTokenStream}, collected: for short texts (reasoning, snippets). */
export function composeTokens(
  rng: Rng,
  keywords: readonly string[],
  count: number,
  style: TextStyle,
  length: "exact" | "sentences" = "exact",
): string[] {
  return Array.from(composeTokenStream(rng, keywords, count, style, length));
}

/**
 * Counts the tokens of a text the way the simulator counts: runs of letters
 * and digits, and each other non-space character, are one token each.
 * Beyond the first {@link maxScannedChars} characters the count is
 * extrapolated from that prefix's tokens per character (rounded), so the
 * work is bounded whatever the text's length.
 */
export function countTokens(text: string): number {
  const scanned = text.length > maxScannedChars ? text.slice(0, maxScannedChars) : text;
  let n = 0;
  for (const _ of scanned.matchAll(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu)) n++;
  return scanned === text ? n : Math.round((n * text.length) / scanned.length);
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function lowerFirst(s: string): string {
  return s.startsWith("I ") ? s : s.charAt(0).toLowerCase() + s.slice(1);
}
