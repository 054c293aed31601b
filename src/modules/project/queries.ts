import { and, eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { project, projectMember } from "@/db/schema";

/* The facts every project-scoped request checks: existence, display name, the read-only flag. */
export async function selectProjectFacts(db: DbOrTx, id: string) {
  const [row] = await db
    .select({ id: project.id, code: project.code, name: project.name, isActive: project.isActive })
    .from(project)
    .where(eq(project.id, id))
    .limit(1);
  return row ?? null;
}

export async function selectMemberRole(db: DbOrTx, projectId: string, userId: string) {
  const [row] = await db
    .select({ role: projectMember.role })
    .from(projectMember)
    .where(and(eq(projectMember.projectId, projectId), eq(projectMember.userId, userId)))
    .limit(1);
  return row?.role ?? null;
}
