import { signDevToken } from "@/lib/auth/dev-token";
import { newId } from "@/lib/ids";

type Requester = (path: string, init?: RequestInit) => Promise<Response>;

export const uniqueEmail = (label = "user") => `${label}.${newId().slice(-12)}@example.com`;

/* A signed-in test user: a dev JWT whose first use provisions the account. */
export async function signIn(
  request: Requester,
  secretKey: string,
  email = uniqueEmail(),
  name: string | null = null,
): Promise<{ id: string; email: string; token: string; auth: Record<string, string> }> {
  const token = await signDevToken({ secretKey, email, name: name ?? email.split("@")[0] });
  const auth = { authorization: `Bearer ${token}` };
  const res = await request("/api/v1/user_account/me", { headers: auth });
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  const me = (await res.json()) as { id: string };
  return { id: me.id, email, token, auth };
}

export const jsonInit = (
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): RequestInit => ({
  method,
  body: JSON.stringify(body),
  headers: { "content-type": "application/json", ...headers },
});
