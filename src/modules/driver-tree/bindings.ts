import type { Database, DbOrTx } from "@/db/client";
import { writeAudit } from "@/db/queries/audit";
import { problem } from "@/lib/errors";
import type { Caller } from "@/modules/auth/service";
import type { ProjectAccess } from "@/modules/project/access";
import { unbindableReason } from "./binding-rules";
import { evaluateStored, snapshotRead } from "./data";
import { treeUpdated } from "./events";
import type { FrameCache } from "./frame-cache";
import type { BindingPut, NodeDetailOut } from "./model";
import { nodeDetail, nodeNotFound, nodeRef, writeNode } from "./nodes";
import * as q from "./queries";
import * as repo from "./repository";
import type { TreeDeps } from "./service";
import { selectedSheetSubjects } from "./sheet-frames";
import * as sq from "./sheet-queries";

/*
 * Bindings (api.md §2.8, analysis.md §7.5): an input node reads one item (科目) of a selected
 * sheet, optionally restricted by axis columns, aggregated per value of the sheet's time column.
 * The binding is written under the lock of the node's tree, like every other node change.
 */

const bindingInvalid = (detail: string, extensions: Record<string, unknown> = {}, path = "/body") =>
  problem("BINDING_INVALID", { detail, errors: [{ path, message: detail }], extensions });

export async function putBinding(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  nodeId: string,
  body: BindingPut,
): Promise<NodeDetailOut> {
  const projectId = access.project.id;
  // The sheet is share-locked first: a refresh, role change or unselect of it (which lock it for
  // update) runs wholly before or after this binding, so its checks always see the binding.
  const shareSheet = (tx: DbOrTx) => sq.shareSheet(tx, body.sheetId);
  return writeNode(
    deps,
    caller,
    access,
    nodeId,
    async (tx, ref) => {
      const node = await q.findNodeRow(tx, nodeId);
      if (!node) throw nodeNotFound();
      const { columns: frames, subjects } = await selectedSheetSubjects(
        tx,
        projectId,
        body.sheetId,
        deps.frames,
      );
      if (node.nodeType !== "input") {
        throw bindingInvalid(`Only input nodes are bound to data; ${node.label} is a ${node.nodeType} node.`);
      }
      const unbindable = unbindableReason(frames);
      if (unbindable) {
        throw bindingInvalid(`This sheet cannot be bound: ${unbindable}.`, { availableSubjects: subjects });
      }
      if (!subjects.includes(body.item)) {
        throw bindingInvalid(
          `「${body.item}」 is not a subject of the sheet.`,
          { availableSubjects: subjects },
          "/body/item",
        );
      }
      const filter = body.axisFilter && Object.keys(body.axisFilter).length > 0 ? body.axisFilter : null;
      for (const columnId of Object.keys(filter ?? {})) {
        const column = frames.find((f) => f.columnId === columnId);
        if (!column) {
          throw problem("COLUMN_NOT_FOUND", {
            errors: [{ path: `/body/axisFilter/${columnId}`, message: "not a column of this sheet" }],
            extensions: { columnId },
          });
        }
        if (column.role !== "axis") {
          throw bindingInvalid(
            `axisFilter names ${column.columnName}, whose role is ${column.role}, not axis.`,
            { availableSubjects: subjects },
            `/body/axisFilter/${columnId}`,
          );
        }
      }
      const binding: repo.Binding = {
        sheetId: body.sheetId,
        item: body.item,
        aggregation: body.aggregation ?? "sum",
        axisFilter: filter,
      };
      await repo.setBinding(tx, nodeId, binding);
      await repo.updateTree(tx, ref.treeId);
      await writeAudit(tx, deps.actor, {
        eventType: "DATA_CHANGE",
        action: "UPDATE",
        resourceType: "driver_tree_node",
        resourceId: nodeId,
        projectId,
        oldValue: {
          binding: node.boundSheetId
            ? { sheetId: node.boundSheetId, item: node.boundItem, aggregation: node.aggregation }
            : null,
        },
        newValue: { binding },
      });
      await treeUpdated(tx, {
        projectId,
        treeId: ref.treeId,
        actorId: caller.user.id,
        message: `node ${ref.label} bound to ${body.item}`,
      });
      return nodeDetail(tx, projectId, ref, deps.frames);
    },
    shareSheet,
  );
}

export async function deleteBinding(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  nodeId: string,
): Promise<void> {
  const projectId = access.project.id;
  await writeNode(deps, caller, access, nodeId, async (tx, ref) => {
    const node = await q.findNodeRow(tx, nodeId);
    if (!node?.boundSheetId) return;
    await repo.clearBindings(tx, { nodeIds: [nodeId] });
    await repo.updateTree(tx, ref.treeId);
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "UPDATE",
      resourceType: "driver_tree_node",
      resourceId: nodeId,
      projectId,
      oldValue: {
        binding: { sheetId: node.boundSheetId, item: node.boundItem, aggregation: node.aggregation },
      },
      newValue: { binding: null },
    });
    await treeUpdated(tx, {
      projectId,
      treeId: ref.treeId,
      actorId: caller.user.id,
      message: `node ${ref.label} unbound`,
    });
  });
}

/* Text cells that a spreadsheet would run as a formula are prefixed with ' (analysis.md §7.9). */
function csvCell(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/**
 * The node's series before policies (its bound data, manual value or fold of its children) as
 * CSV: UTF-8 with BOM and CRLF so that Excel opens Japanese labels, `period,value` per row.
 */
export async function previewCsv(
  db: Database,
  projectId: string,
  nodeId: string,
  frames?: FrameCache,
): Promise<{ csv: string; label: string }> {
  return snapshotRead(db, async (tx) => {
    const ref = await nodeRef(tx, projectId, nodeId);
    const result = await evaluateStored(tx, ref.treeId, false, frames);
    const row = result.nodes.find((n) => n.nodeId === nodeId);
    if (!row) throw nodeNotFound();
    const lines = ["period,value"];
    result.periods.forEach((period, i) => {
      const v = row.baseline[i];
      lines.push(`${csvCell(period)},${v === null || v === undefined ? "" : String(v)}`);
    });
    return { csv: `\uFEFF${lines.join("\r\n")}\r\n`, label: ref.label };
  });
}
