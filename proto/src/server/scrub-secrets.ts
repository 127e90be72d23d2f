/**
 * Removes secrets from text that came from outside (an upstream's error
 * message, request id, metadata) before it is shown to a client or logged.
 * Pure, with no dependencies, so every layer that forwards such text (the
 * HTTP provider runtime, the inference service, the gateway) uses this one
 * implementation.
 */

/** What a removed secret is replaced with. */
export const redactedText = "[redacted]";

/**
 * Configured secrets shorter than this many characters are not removed by
 * value (a 1- to 7-character "key" is no secret, and removing it would
 * mangle ordinary words); credential-shaped strings still are.
 */
export const minSecretLength = 8;

/** A function that returns its argument with every secret replaced by {@link redactedText}. */
export type SecretScrubber = (text: string) => string;

/**
 * Credential shapes removed from every text, whatever was configured. Each
 * entry keeps the part before the credential (a header name, a scheme, a
 * query parameter name) and replaces the value.
 *
 * - a credential header or field and its value, as text or JSON:
 *   `Authorization: Bearer …`, `"x-api-key": "…"`, `api-key=…`,
 *   `x-goog-api-key`, `proxy-authorization`, `api_key`, `apikey`,
 *   `access_token`, `client_secret`;
 * - a `key=`, `api_key=`, `access_token=`, `token=`, `sig=` query parameter;
 * - `Bearer <token>` (a token with a digit, 8 or more characters) and
 *   `Basic <base64>` anywhere;
 * - provider key prefixes: OpenAI `sk-…` (`sk-proj-`, `sk-svcacct-`, and
 *   Anthropic `sk-ant-`, also with `*` masking), Google `AIza…`, Groq
 *   `gsk_…`, Hugging Face `hf_…`, xAI `xai-…`, Google OAuth `ya29.…`, GitHub
 *   `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/`github_pat_…`, AWS `AKIA…`;
 * - JWT-shaped strings (`eyJ….….…`).
 */
const credentialNames = "(?:proxy-)?authorization|x-api-key|api-key|api_key|apikey|x-goog-api-key|x-auth-token|access_token|client_secret";
const credentialShapes: readonly RegExp[] = [
  new RegExp(`(${credentialNames})(["']?\\s*[:=]\\s*["']?\\s*)(?:(?:bearer|basic|token)\\s+)?[^\\s"',;&<>{}]+`, "gi"),
  /([?&](?:key|api_key|apikey|access_token|token|sig|signature)=)[^&\s"'#<>]+/gi,
  /(\bbearer\s+)(?=[A-Za-z._~+/=-]*[0-9])[A-Za-z0-9._~+/=-]{8,}/gi,
  /(\bBasic\s+)(?=[A-Za-z]*[0-9+/=])[A-Za-z0-9+/]{12,}={0,2}/g,
  /()(?<![A-Za-z0-9])(?:sk-|AIza|gsk_|hf_|xai-|gh[opusr]_|github_pat_)[A-Za-z0-9_*-]{12,}/g,
  /()(?<![A-Za-z0-9])ya29\.[A-Za-z0-9_-]{12,}(?:\.[A-Za-z0-9_-]+)*/g,
  /()(?<![A-Za-z0-9])AKIA[0-9A-Z]{16}(?![A-Za-z0-9])/g,
  /()(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
];

/** The forms a configured secret can take in echoed text: itself, URL-encoded, base64 and base64url. */
function secretForms(secret: string): string[] {
  const b64 = btoa(String.fromCharCode(...new TextEncoder().encode(secret)));
  const forms = [
    secret,
    encodeURIComponent(secret),
    b64,
    b64.replace(/=+$/, ""),
    b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
  ];
  return forms.filter((f) => f.length >= minSecretLength);
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Builds the scrubber of one component: it replaces with
 * {@link redactedText} every occurrence of each configured secret (of at
 * least {@link minSecretLength} characters; also its URL-encoded, base64 and
 * base64url forms), then every credential-shaped string (see the list
 * above). Undefined and short entries are ignored; the result is
 * idempotent. Meant for text that comes from outside — error messages,
 * request ids, provider metadata — and never for model output, which is the
 * user's data and is passed on unchanged.
 *
 * @param secrets the component's configured secrets, e.g. an upstream API
 * key and the endpoint's configured header values, or the gateway's API keys
 * and cookie secret.
 */
export function createSecretScrubber(secrets: Iterable<string | undefined> = []): SecretScrubber {
  const forms = new Set<string>();
  for (const s of secrets) if (s !== undefined && s.length >= minSecretLength) for (const f of secretForms(s)) forms.add(f);
  const literal =
    forms.size > 0
      ? new RegExp(
          [...forms]
            .sort((a, b) => b.length - a.length)
            .map(escapeRegExp)
            .join("|"),
          "g",
        )
      : undefined;
  return (text) => {
    let out = literal ? text.replace(literal, redactedText) : text;
    for (const re of credentialShapes) {
      // Keeps group 1 (the name or prefix) and, for a header, group 2 (the separator).
      out = out.replace(re, (_m, keep: string, sep: unknown) => `${keep}${typeof sep === "string" ? sep : ""}${redactedText}`);
    }
    return out;
  };
}

/** Request ids taken from an upstream's response header: at most this many characters. */
export const maxRequestIdLength = 128;

const requestIdShape = /^[A-Za-z0-9._:-]+$/;

/**
 * An upstream request id (a response header's value) as it may be shown:
 * the value when it is a plain id — 1 to {@link maxRequestIdLength}
 * characters of `[A-Za-z0-9._:-]` that `scrub` leaves unchanged (no
 * configured secret, no credential shape in it) — otherwise `""` (dropped).
 */
export function safeRequestId(value: string | null | undefined, scrub: SecretScrubber): string {
  if (!value || value.length > maxRequestIdLength || !requestIdShape.test(value)) return "";
  return scrub(value) === value ? value : "";
}
