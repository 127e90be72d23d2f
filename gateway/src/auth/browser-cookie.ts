import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** The name of the cookie that carries an anonymous browser identity. */
export const browserCookieName = "airwave_id";

const idPattern = /^[A-Za-z0-9_-]{22}$/;
const sigPattern = /^[A-Za-z0-9_-]{43}$/;

/**
 * Signs and checks the anonymous per-browser identity cookie: the value is
 * `<id>.<mac>`, `id` 128 random bits and `mac` HMAC-SHA256(secret, id), both
 * unpadded base64url (RFC 4648 §5). The cookie is only as good as its
 * secret: with a per-process random secret, a restart forgets every
 * identity.
 */
export interface BrowserCookies {
  /**
   * Reads the identity from a `Cookie` request header (RFC 6265 §5.4).
   * Returns the id of the first `airwave_id` cookie whose signature checks
   * (compared in constant time), or undefined when there is none.
   */
  read(cookieHeader: string | null | undefined): string | undefined;
  /**
   * Mints a new identity and returns its `Set-Cookie` header value:
   * `HttpOnly; SameSite=Lax; Path=/`, plus `Secure` when `secure` (the
   * request came over https). A session cookie: no Max-Age.
   */
  mint(secure: boolean): { id: string; setCookie: string };
}

/**
 * Creates the cookie signer.
 *
 * @param secret the HMAC key (AIRWAVE_COOKIE_SECRET); undefined uses 32
 *   random bytes for this process.
 */
export function createBrowserCookies(secret: string | undefined): BrowserCookies {
  const key = secret === undefined ? randomBytes(32) : Buffer.from(secret, "utf8");
  const mac = (id: string) => createHmac("sha256", key).update(`airwave-browser-id:${id}`).digest();
  return {
    read(header) {
      if (!header) return undefined;
      for (const part of header.split(";")) {
        const eq = part.indexOf("=");
        if (eq < 0 || part.slice(0, eq).trim() !== browserCookieName) continue;
        const [id = "", sig = "", extra] = part
          .slice(eq + 1)
          .trim()
          .split(".");
        if (extra !== undefined || !idPattern.test(id) || !sigPattern.test(sig)) continue;
        const given = Buffer.from(sig, "base64url");
        if (given.length === 32 && timingSafeEqual(given, mac(id))) return id;
      }
      return undefined;
    },
    mint(secure) {
      const id = randomBytes(16).toString("base64url");
      const value = `${id}.${mac(id).toString("base64url")}`;
      return { id, setCookie: `${browserCookieName}=${value}; Path=/; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}` };
    },
  };
}
