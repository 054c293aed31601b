import { createHash } from "node:crypto";
import { decodeProtectedHeader, jwtVerify, SignJWT } from "jose";
import { fromJoseError, MAX_TOKEN_LENGTH, tokenError } from "@/lib/auth/errors";

/*
 * Development JWTs (decisions.md "Identity and access"): HS256 signed with SECRET_KEY so tests and
 * local tools can act as many users. Only the development auth mode ever calls the verifier.
 */

export const DEV_TOKEN_ISSUER = "camp-backend-dev";
export const DEV_TOKEN_ALGORITHM = "HS256";
const DEFAULT_EXPIRES_IN_S = 3600;
/* Same tolerance as for Entra tokens, so behaviour does not change between auth modes. */
const CLOCK_SKEW_S = 60;

/* Fixed UUIDv5 namespace for dev identities; changing it would re-key every dev user. */
const DEV_OID_NAMESPACE = "5b0f5c3e-2d4a-4f1e-9c7b-8a6d3e2f1c0b";

export type DevTokenInput = {
  secretKey: string;
  email: string;
  name?: string | null;
  oid?: string;
  expiresInS?: number;
  sid?: string;
};

export type DevTokenClaims = {
  oid: string;
  email: string;
  name: string | null;
  sid: string | null;
  iat: number | null;
  exp: number;
};

const keyOf = (secretKey: string) => new TextEncoder().encode(secretKey);

/** SECRET_KEY imported once as an HMAC key; jose would otherwise import the raw bytes on every verify. */
export function importDevTokenKey(secretKey: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", keyOf(secretKey), { name: "HMAC", hash: "SHA-256" }, false, [
    "verify",
  ]);
}

/** RFC 4122 UUIDv5 of the normalised email, so the same address is always the same dev user. */
export function devOidForEmail(email: string): string {
  const ns = Buffer.from(DEV_OID_NAMESPACE.replace(/-/g, ""), "hex");
  const hash = createHash("sha1").update(ns).update(email.trim().toLowerCase(), "utf8").digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export async function signDevToken(input: DevTokenInput): Promise<string> {
  const email = input.email.trim();
  if (!email.includes("@")) throw new Error(`not an email address: '${input.email}'`);
  const expiresInS = input.expiresInS ?? DEFAULT_EXPIRES_IN_S;
  if (!Number.isFinite(expiresInS)) throw new Error("expiresInS must be a finite number");
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, string> = { oid: input.oid ?? devOidForEmail(email), email };
  if (input.name) payload.name = input.name;
  if (input.sid) payload.sid = input.sid;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: DEV_TOKEN_ALGORITHM, typ: "JWT" })
    .setIssuer(DEV_TOKEN_ISSUER)
    .setIssuedAt(now)
    .setExpirationTime(now + Math.trunc(expiresInS))
    .sign(keyOf(input.secretKey));
}

/** True when the token's header names HS256, i.e. it can only be a dev token. */
export function looksLikeDevToken(token: string): boolean {
  try {
    return decodeProtectedHeader(token).alg === DEV_TOKEN_ALGORITHM;
  } catch {
    return false;
  }
}

/** Verifies a dev JWT; throws 401 TOKEN_INVALID / TOKEN_EXPIRED problems. */
export async function verifyDevToken(token: string, secretKey: string | CryptoKey): Promise<DevTokenClaims> {
  if (token.length > MAX_TOKEN_LENGTH) throw tokenError("TOKEN_INVALID", "The token is too large.");
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, typeof secretKey === "string" ? keyOf(secretKey) : secretKey, {
      algorithms: [DEV_TOKEN_ALGORITHM],
      issuer: DEV_TOKEN_ISSUER,
      requiredClaims: ["exp"],
      clockTolerance: CLOCK_SKEW_S,
    }));
  } catch (error) {
    throw fromJoseError(error);
  }
  const { oid, email, name, sid, iat, exp } = payload;
  if (typeof oid !== "string" || oid === "")
    throw tokenError("TOKEN_INVALID", "The token has no 'oid' claim.");
  if (typeof email !== "string" || !email.includes("@")) {
    throw tokenError("TOKEN_INVALID", "The token has no usable 'email' claim.");
  }
  return {
    oid,
    email,
    name: typeof name === "string" && name !== "" ? name : null,
    sid: typeof sid === "string" && sid !== "" ? sid : null,
    iat: typeof iat === "number" ? iat : null,
    exp: exp as number,
  };
}
