import { Code, ConnectError } from "@connectrpc/connect";
import { anonymousOwner, bearerOwner, browserOwner, keyOwner } from "../owner.js";
import { type ApiKey, createKeyMatcher } from "./api-keys.js";
import { createBrowserCookies } from "./browser-cookie.js";

/**
 * Whether callers must present an API key. `optional`: a key is checked
 * when sent; without one the caller is its browser cookie's identity or the
 * shared anonymous owner. `required`: every StreamService call and
 * /v1/streams route needs a valid key.
 */
export type AuthMode = "optional" | "required";

/** Options of {@link createAuthenticator}; see GatewayConfig. */
export interface AuthOptions {
  authMode: AuthMode;
  apiKeys: readonly ApiKey[];
  /** HMAC key of the browser cookie; undefined: random per process. */
  cookieSecret: string | undefined;
}

/** Who is calling. */
export interface Identity {
  /** The owner string streams are checked against (see ../owner.ts); never a key. */
  readonly owner: string;
  readonly kind: "api-key" | "bearer" | "browser" | "anonymous";
}

/** The request headers identity depends on (names as in RFC 9110 / RFC 6265). */
export interface AuthHeaders {
  readonly authorization?: string | null | undefined;
  readonly cookie?: string | null | undefined;
}

/** Decides the owner of a call; the one place that does (README "Owners"). */
export interface Authenticator {
  /**
   * The caller's identity, from (in order) `Authorization: Bearer <key>`
   * (RFC 6750 §2.1), the signed `airwave_id` cookie, or else the shared
   * anonymous owner. Pure: sets nothing.
   *
   * With no keys configured (the embedded default), a bearer token cannot
   * be checked and is not refused: it names its own owner
   * ({@link bearerOwner}, a digest of the token), so an OpenAI SDK program
   * that sends its usual key works unchanged and sees only its own
   * streams. Refusing it would protect nothing, since the same caller
   * without the header is admitted as anonymous.
   *
   * Raises UNAUTHENTICATED for an Authorization header that is not
   * `Bearer <token>`, for a token that is not a configured key when keys
   * are configured, and for a call without a key when keys are required.
   */
  identify(h: AuthHeaders): Identity;
  /**
   * The `Set-Cookie` value giving a browser its own anonymous identity, for
   * a page load whose request carries no valid identity cookie; undefined
   * when it has one or when keys are required.
   *
   * @param secure the request came over https (directly or per
   *   `X-Forwarded-Proto`): the cookie gets `Secure`.
   */
  browserCookie(h: AuthHeaders, secure: boolean): string | undefined;
}

const bearer = /^Bearer +([\x21-\x7e]+) *$/i;

/** Creates the authenticator of a gateway. */
export function createAuthenticator(o: AuthOptions): Authenticator {
  const match = createKeyMatcher(o.apiKeys);
  const cookies = createBrowserCookies(o.cookieSecret);
  const required = o.authMode === "required";
  const unchecked = o.apiKeys.length === 0 && !required;
  return {
    identify(h) {
      if (h.authorization != null && h.authorization !== "") {
        const m = bearer.exec(h.authorization);
        if (m && unchecked) return { owner: bearerOwner(m[1] as string), kind: "bearer" };
        const name = m ? match(m[1] as string) : undefined;
        if (name === undefined) {
          throw new ConnectError(
            m ? "the API key is not valid" : 'the Authorization header must be "Bearer <API key>"',
            Code.Unauthenticated,
          );
        }
        return { owner: keyOwner(name), kind: "api-key" };
      }
      if (required) throw new ConnectError('an API key is required: send "Authorization: Bearer <key>"', Code.Unauthenticated);
      const id = cookies.read(h.cookie);
      if (id !== undefined) return { owner: browserOwner(id), kind: "browser" };
      return { owner: anonymousOwner, kind: "anonymous" };
    },
    browserCookie(h, secure) {
      if (required || cookies.read(h.cookie) !== undefined) return undefined;
      return cookies.mint(secure).setCookie;
    },
  };
}
