/*
 * Seed of `bun run bench:hot` (issue 14): 1,000 users, 200 projects × 10 members × 20 files,
 * one auth session per user keyed like the product keys a token without `sid` (sha256 of the
 * raw token), so both servers start warm-able without a sign-in storm. User 0 ("the dev user")
 * is one of the ten members of every project; the others fill the remaining nine seats.
 * Idempotent: an existing seed with the same marker is reused.
 */
import { createHash } from "node:crypto";
import postgres from "postgres";
import { devOidForEmail, signDevToken } from "@/lib/auth/dev-token";

export const USERS = 1000;
export const PROJECTS = 200;
export const MEMBERS_PER_PROJECT = 10;
export const FILES_PER_PROJECT = 20;
const MARKER = "HOTBENCH";

export type HotSeed = {
  /** Token of the dev user (member of every project). */
  devToken: string;
  projectIds: string[];
  /** 50 (token, project the user is a member of) pairs, one user each. */
  pairs: { token: string; projectId: string }[];
};

const uuidOf = (kind: string, i: number) => {
  const h = createHash("sha1").update(`${MARKER}:${kind}:${i}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};
const emailOf = (i: number) => (i === 0 ? "bench-dev@example.com" : `bench-user-${i}@example.com`);
/** Members of project p: the dev user and nine others, spread over users 1..999. */
const membersOf = (p: number) => [0, ...Array.from({ length: 9 }, (_, k) => 1 + ((p * 9 + k) % (USERS - 1)))];

export async function seedHot(databaseUrl: string, secretKey: string): Promise<HotSeed> {
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  try {
    const tokens: string[] = [];
    // Long-lived tokens signed once; re-signing on every run would change the session hashes.
    const [existing] = await sql`select count(*)::int as n from project where code like ${`${MARKER}-%`}`;
    const expiresInS = 30 * 24 * 3600;
    const tokenCache = new Map<number, string>();
    const rows = await sql`select user_id::text as u, user_agent as t from user_session
      where key_source = 'token' and user_agent like 'hotbench:%'`;
    for (const r of rows) tokenCache.set(Number(String(r.t).split(":")[1]), String(r.t).split(":")[2]);
    for (let i = 0; i < USERS; i++) {
      tokens.push(
        tokenCache.get(i) ??
          (await signDevToken({ secretKey, email: emailOf(i), oid: devOidForEmail(emailOf(i)), expiresInS })),
      );
    }
    const projectIds = Array.from({ length: PROJECTS }, (_, p) => uuidOf("project", p));
    if (existing.n !== PROJECTS || tokenCache.size !== USERS) {
      await sql.begin(async (tx) => {
        await tx`delete from project where code like ${`${MARKER}-%`}`;
        await tx`delete from user_session where user_agent like 'hotbench:%'`;
        await tx`delete from user_account where email like 'bench-%@example.com'`;
        const users = Array.from({ length: USERS }, (_, i) => ({
          id: uuidOf("user", i),
          email: emailOf(i),
          azure_oid: devOidForEmail(emailOf(i)),
          display_name: `Bench user ${i}`,
          roles: ["user"],
        }));
        for (let i = 0; i < users.length; i += 500) {
          await tx`insert into user_account ${tx(users.slice(i, i + 500), "id", "email", "azure_oid", "display_name", "roles")}`;
        }
        const sessions = tokens.map((t, i) => ({
          id: uuidOf("session", i),
          user_id: uuidOf("user", i),
          session_key_hash: createHash("sha256").update(t).digest("hex"),
          key_source: "token",
          user_agent: `hotbench:${i}:${t}`,
          expires_at: new Date(Date.now() + expiresInS * 1000),
        }));
        for (let i = 0; i < sessions.length; i += 500) {
          await tx`insert into user_session ${tx(sessions.slice(i, i + 500))}`;
        }
        const projects = projectIds.map((id, p) => ({
          id,
          name: `Hot bench project ${p}`,
          code: `${MARKER}-${p}`,
          description: "Seeded by bench/hot-seed.ts",
          created_by: uuidOf("user", 0),
          storage_bytes: 20 * 1024,
        }));
        await tx`insert into project ${tx(projects)}`;
        const members = projectIds.flatMap((id, p) =>
          membersOf(p).map((u, k) => ({
            id: uuidOf(`member-${p}`, k),
            project_id: id,
            user_id: uuidOf("user", u),
            role: k === 0 ? "project_manager" : k < 3 ? "member" : "viewer",
          })),
        );
        for (let i = 0; i < members.length; i += 500) {
          await tx`insert into project_member ${tx(members.slice(i, i + 500))}`;
        }
        const files = projectIds.flatMap((id, p) =>
          Array.from({ length: FILES_PER_PROJECT }, (_, f) => ({
            id: uuidOf(`file-${p}`, f),
            project_id: id,
            chain_id: uuidOf(`chain-${p}`, f),
            version: 1,
            is_latest: true,
            filename: `file-${f}.csv`,
            original_filename: `file-${f}.csv`,
            storage_key: `hotbench/${id}/${f}`,
            kind: "csv",
            mime_type: "text/csv",
            size_bytes: 1024,
            checksum_sha256: "0".repeat(64),
            uploaded_by: uuidOf("user", membersOf(p)[f % MEMBERS_PER_PROJECT]),
          })),
        );
        for (let i = 0; i < files.length; i += 500) {
          await tx`insert into project_file ${tx(files.slice(i, i + 500))}`;
        }
      });
      await sql`analyze`;
    }
    // 50 users (1..50), each reading one project it belongs to.
    const pairs: HotSeed["pairs"] = [];
    for (let u = 1; u <= 50; u++) {
      const p = projectIds.findIndex((_, i) => membersOf(i).includes(u));
      pairs.push({ token: tokens[u], projectId: projectIds[p] });
    }
    return { devToken: tokens[0], projectIds, pairs };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
