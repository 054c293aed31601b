/*
 * Tree templates (api.md §2.8): the structure of a tree with positions relative to its root and
 * the values of constant nodes — no bindings, no policies, no manual input values. The root is the
 * first node of the config; applying a config creates fresh ids.
 */
import type { TreeNodeType, TreeOperator, TreeRelationship } from "@/engine/driver-tree/graph";

export type TemplateConfig = {
  nodes: {
    key: string;
    label: string;
    nodeType: TreeNodeType;
    relativeX: number;
    relativeY: number;
    value: number | null;
  }[];
  relationships: { parentKey: string; operator: TreeOperator; childKeys: string[] }[];
};

export type TemplateSourceNode = {
  id: string;
  label: string;
  nodeType: TreeNodeType;
  positionX: number;
  positionY: number;
  value: number | null;
};

export function templateFromTree(tree: {
  rootId: string | null;
  nodes: readonly TemplateSourceNode[];
  relationships: readonly TreeRelationship[];
}): TemplateConfig {
  const root = tree.nodes.find((n) => n.id === tree.rootId);
  const ordered = root ? [root, ...tree.nodes.filter((n) => n !== root)] : [...tree.nodes];
  const key = new Map(ordered.map((n, i) => [n.id, `n${i}`]));
  const ox = root?.positionX ?? 0;
  const oy = root?.positionY ?? 0;
  return {
    nodes: ordered.map((n) => ({
      key: key.get(n.id) as string,
      label: n.label,
      nodeType: n.nodeType,
      relativeX: n.positionX - ox,
      relativeY: n.positionY - oy,
      value: n.nodeType === "constant" ? n.value : null,
    })),
    relationships: tree.relationships
      .filter((r) => key.has(r.parentId) && r.childIds.every((c) => key.has(c)))
      .map((r) => ({
        parentKey: key.get(r.parentId) as string,
        operator: r.operator,
        childKeys: r.childIds.map((c) => key.get(c) as string),
      })),
  };
}

export function treeFromTemplate(
  config: TemplateConfig,
  origin: { x: number; y: number },
  newId: () => string,
): { rootId: string | null; nodes: TemplateSourceNode[]; relationships: TreeRelationship[] } {
  const id = new Map(config.nodes.map((n) => [n.key, newId()]));
  const nodes = config.nodes.map((n) => ({
    id: id.get(n.key) as string,
    label: n.label,
    nodeType: n.nodeType,
    positionX: origin.x + n.relativeX,
    positionY: origin.y + n.relativeY,
    value: n.nodeType === "constant" ? n.value : null,
  }));
  const relationships = config.relationships.map((r) => ({
    parentId: id.get(r.parentKey) as string,
    operator: r.operator,
    childIds: r.childKeys.map((k) => id.get(k) as string),
  }));
  return { rootId: nodes[0]?.id ?? null, nodes, relationships };
}
