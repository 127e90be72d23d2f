import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createKeyMatcher, parseApiKeys } from "./api-keys.js";
import { type AuthOptions, createAuthenticator } from "./authenticator.js";
import { browserCookieName, createBrowserCookies } from "./browser-cookie.js";

const secret = "s".repeat(32);
const keys = parseApiKeys("alice:alice-key-0123456789, bob:bob-key-0123456789abc", "test");

function codeOf(f: () => unknown): Code | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return e instanceof ConnectError ? e.code : undefined;
  }
}

describe("parseApiKeys", () => {
  it("reads name:key pairs separated by commas or newlines, skipping blanks and comments", () => {
    const k = parseApiKeys("# service keys\nalice:aaaaaaaaaaaaaaaa\n\nbob : bbbbbbbbbbbbbbbb, carol:cccccccccccccccc:with-colon", "f");
    expect(k).toEqual([
      { name: "alice", key: "aaaaaaaaaaaaaaaa" },
      { name: "bob", key: "bbbbbbbbbbbbbbbb" },
      { name: "carol", key: "cccccccccccccccc:with-colon" },
    ]);
    expect(parseApiKeys("", "f")).toEqual([]);
  });

  it.each([
    ["no colon", "alicekeykeykeykeykey"],
    ["a short key", "alice:short"],
    ["a bad name", "al ice:aaaaaaaaaaaaaaaa"],
    ["a repeated name", "a:aaaaaaaaaaaaaaaa,a:bbbbbbbbbbbbbbbb"],
    ["a shared key", "a:aaaaaaaaaaaaaaaa,b:aaaaaaaaaaaaaaaa"],
  ])("refuses %s, naming the source but never quoting the key", (_name, text) => {
    expect(() => parseApiKeys(text, "AIRWAVE_API_KEYS")).toThrow(/^AIRWAVE_API_KEYS: /);
    try {
      parseApiKeys(text, "AIRWAVE_API_KEYS");
    } catch (e) {
      expect(String(e)).not.toMatch(/aaaaaaaaaaaaaaaa|bbbbbbbbbbbbbbbb|alicekey|short/);
    }
  });
});

describe("createKeyMatcher", () => {
  it("finds the name of a presented key and nothing for any other string", () => {
    const match = createKeyMatcher(keys);
    expect(match("alice-key-0123456789")).toBe("alice");
    expect(match("bob-key-0123456789abc")).toBe("bob");
    expect(match("alice-key-012345678")).toBeUndefined(); // a prefix
    expect(match("alice-key-0123456789x")).toBeUndefined();
    expect(match("")).toBeUndefined();
    expect(createKeyMatcher([])("alice-key-0123456789")).toBeUndefined();
  });
});

describe("browser cookies", () => {
  it("round-trips a minted identity with the documented attributes", () => {
    const c = createBrowserCookies(secret);
    const { id, setCookie } = c.mint(false);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(setCookie).toMatch(new RegExp(`^${browserCookieName}=[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Lax$`));
    expect(c.mint(true).setCookie).toMatch(/; Secure$/);
    const value = setCookie.split(";")[0] as string;
    expect(c.read(`theme=dark; ${value}; other=1`)).toBe(id);
  });

  it("ignores a forged, truncated or foreign-secret cookie", () => {
    const c = createBrowserCookies(secret);
    const value = (c.mint(false).setCookie.split(";")[0] as string).slice(browserCookieName.length + 1);
    const [id, sig] = value.split(".") as [string, string];
    const other = `${id.slice(0, -1)}${id.endsWith("A") ? "B" : "A"}`;
    expect(c.read(`${browserCookieName}=${other}.${sig}`)).toBeUndefined();
    expect(c.read(`${browserCookieName}=${id}.${sig.slice(0, -2)}`)).toBeUndefined();
    expect(c.read(`${browserCookieName}=${id}`)).toBeUndefined();
    expect(c.read(`${browserCookieName}=${value}.x`)).toBeUndefined();
    expect(createBrowserCookies("t".repeat(32)).read(`${browserCookieName}=${value}`)).toBeUndefined();
    // Unset secret: random per process, so two gateways do not accept each other's cookies.
    const a = createBrowserCookies(undefined);
    const b = createBrowserCookies(undefined);
    const av = a.mint(false).setCookie.split(";")[0] as string;
    expect(a.read(av)).toBeDefined();
    expect(b.read(av)).toBeUndefined();
  });
});

describe("createAuthenticator", () => {
  const optional: AuthOptions = { authMode: "optional", apiKeys: keys, cookieSecret: secret };

  it("makes a valid key's name the owner, never the key", () => {
    const a = createAuthenticator(optional);
    const who = a.identify({ authorization: "Bearer alice-key-0123456789" });
    expect(who).toEqual({ owner: "key:alice", kind: "api-key" });
    expect(a.identify({ authorization: "bearer bob-key-0123456789abc" }).owner).toBe("key:bob");
  });

  it("refuses a wrong key and another scheme with UNAUTHENTICATED", () => {
    const a = createAuthenticator(optional);
    expect(codeOf(() => a.identify({ authorization: "Bearer nope-nope-nope-nope" }))).toBe(Code.Unauthenticated);
    expect(codeOf(() => a.identify({ authorization: "Basic YWxpY2U6eA==" }))).toBe(Code.Unauthenticated);
    expect(codeOf(() => a.identify({ authorization: "Bearer" }))).toBe(Code.Unauthenticated);
  });

  it("with no keys configured, a bearer token names its own owner, a digest that never holds the token", () => {
    const none = createAuthenticator({ ...optional, apiKeys: [] });
    const token = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
    const who = none.identify({ authorization: `Bearer ${token}` });
    expect(who.kind).toBe("bearer");
    expect(who.owner).toMatch(/^bearer:[A-Za-z0-9_-]{22}$/);
    expect(who.owner).not.toContain(token.slice(0, 8));
    expect(none.identify({ authorization: `bearer ${token}` }).owner).toBe(who.owner); // stable
    expect(none.identify({ authorization: "Bearer another-token-0123456789" }).owner).not.toBe(who.owner);
    // Still refused: another scheme, and a token when keys are configured.
    expect(codeOf(() => none.identify({ authorization: "Basic YWxpY2U6eA==" }))).toBe(Code.Unauthenticated);
    expect(codeOf(() => createAuthenticator(optional).identify({ authorization: `Bearer ${token}` }))).toBe(Code.Unauthenticated);
  });

  it("without a key: the browser cookie's identity, else the shared anonymous owner", () => {
    const a = createAuthenticator(optional);
    const setCookie = a.browserCookie({}, false);
    expect(setCookie).toBeDefined();
    const cookie = (setCookie as string).split(";")[0] as string;
    const who = a.identify({ cookie });
    expect(who.kind).toBe("browser");
    expect(who.owner).toMatch(/^browser:[A-Za-z0-9_-]{22}$/);
    expect(a.identify({ cookie }).owner).toBe(who.owner); // stable
    expect(a.identify({}).owner).toBe("anonymous");
    expect(a.identify({ cookie: `${browserCookieName}=forged.value` }).owner).toBe("anonymous");
    // A key wins over a cookie.
    expect(a.identify({ cookie, authorization: "Bearer alice-key-0123456789" }).owner).toBe("key:alice");
    // A browser that has a valid identity gets no new cookie.
    expect(a.browserCookie({ cookie }, false)).toBeUndefined();
  });

  it("in required mode refuses calls without a key and mints no cookies", () => {
    const a = createAuthenticator({ ...optional, authMode: "required" });
    expect(codeOf(() => a.identify({}))).toBe(Code.Unauthenticated);
    const cookie = (createAuthenticator(optional).browserCookie({}, false) as string).split(";")[0] as string;
    expect(codeOf(() => a.identify({ cookie }))).toBe(Code.Unauthenticated);
    expect(a.browserCookie({}, false)).toBeUndefined();
    expect(a.identify({ authorization: "Bearer alice-key-0123456789" }).owner).toBe("key:alice");
  });
});
