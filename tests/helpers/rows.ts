import type { Database } from "@/db/client";
import { analysisSession, driverTree, project, projectFile, projectMember } from "@/db/schema";
import { newId } from "@/lib/ids";

/*
 * Rows written straight into the tables, for tests that need a known world of many objects with
 * chosen names and timestamps (search, dashboard) faster than the HTTP routes can build it.
 */

type At = { at?: Date };

export async function insertProject(
  db: Database,
  p: { name: string; code?: string; description?: string | null; isActive?: boolean } & At,
  members: [userId: string, role: string][] = [],
): Promise<string> {
  const id = newId();
  await db.insert(project).values({
    id,
    name: p.name,
    code: p.code ?? `C-${id.slice(-12)}`,
    description: p.description ?? null,
    isActive: p.isActive ?? true,
    ...(p.at ? { createdAt: p.at, updatedAt: p.at } : {}),
  });
  for (const [userId, role] of members) {
    await db.insert(projectMember).values({ id: newId(), projectId: id, userId, role });
  }
  return id;
}

export async function insertSession(
  db: Database,
  projectId: string,
  issueId: string,
  s: { name: string; status?: string } & At,
): Promise<string> {
  const id = newId();
  await db.insert(analysisSession).values({
    id,
    projectId,
    issueId,
    name: s.name,
    status: s.status ?? "draft",
    ...(s.at ? { createdAt: s.at, updatedAt: s.at } : {}),
  });
  return id;
}

/** A file chain with one row per name in `versions` (the last is the latest); returns the ids. */
export async function insertFileChain(
  db: Database,
  projectId: string,
  versions: string[],
  o: { sizeBytes?: number } & At = {},
): Promise<string[]> {
  const chainId = newId();
  const ids: string[] = [];
  for (const [i, name] of versions.entries()) {
    const id = newId();
    ids.push(id);
    await db.insert(projectFile).values({
      id,
      projectId,
      chainId,
      version: i + 1,
      isLatest: i === versions.length - 1,
      filename: `${id}_f.csv`,
      originalFilename: name,
      storageKey: `projects/${projectId}/${id}_f.csv`,
      kind: "csv",
      mimeType: "text/csv",
      sizeBytes: o.sizeBytes ?? 100,
      checksumSha256: "0".repeat(64),
      ...(o.at ? { uploadedAt: new Date(o.at.getTime() + i), updatedAt: o.at } : {}),
    });
  }
  return ids;
}

export async function insertTree(
  db: Database,
  projectId: string,
  t: { name: string; description?: string; status?: string } & At,
): Promise<string> {
  const id = newId();
  await db.insert(driverTree).values({
    id,
    projectId,
    name: t.name,
    description: t.description ?? "",
    status: t.status ?? "draft",
    ...(t.at ? { createdAt: t.at, updatedAt: t.at } : {}),
  });
  return id;
}
