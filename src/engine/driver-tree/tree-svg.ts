/*
 * An evaluated driver tree as an SVG picture: root on the left, one column per depth, operators
 * drawn where a parent's link branches to its children, each node a box with its label, unit,
 * baseline, simulated value and delta, policies marked. Measured with the fonts resvg draws
 * with (like the charts), so Japanese labels get their real width.
 *
 * Placement: the depth-first outline (each node once, under the parent it is first reached
 * from) is a real tree; leaves take consecutive rows and a parent sits at the middle of its
 * children's rows, so boxes of one column never share a row and columns never overlap. Further
 * parents of a shared node (the tree is a DAG) are drawn as dashed links.
 */
import type { ChartFonts } from "@/engine/chart-render/svg";
import { cleanText, escapeXml, FONT_FAMILY } from "@/engine/chart-render/svg";
import type { TreeNodeType, TreeOperator, TreeRelationship } from "@/engine/driver-tree/graph";
import { treeOutline } from "@/engine/driver-tree/outline";

export type TreeImageNode = {
  id: string;
  label: string;
  nodeType: TreeNodeType;
  unit: string | null;
  baseline: number | null;
  simulated: number | null;
  delta: number | null;
  policyCount: number;
};

export type TreeImageModel = {
  title: string;
  /** e.g. the period and whether policies are applied. */
  subtitle: string;
  rootId: string | null;
  nodes: TreeImageNode[];
  relationships: TreeRelationship[];
  withPolicies: boolean;
};

export type TreeImage = { svg: string; width: number; height: number };

const MARGIN = 24;
const HEADER = 64;
const COL_GAP = 72;
const ROW_GAP = 18;
const PAD_X = 12;
const LABEL_FONT = 15;
const VALUE_FONT = 12.5;
const LINE = 19;
const MIN_BOX = 150;
const MAX_BOX = 300;
const TEXT = "#1f2d3d";
const MUTED = "#5b6b7b";
const LINK = "#8a99a8";
const POLICY = "#e07b00";
const UP = "#1a7f37";
const DOWN = "#c62828";
const FILL: Record<TreeNodeType, { head: string; body: string; stroke: string }> = {
  calculation: { head: "#dbe8f7", body: "#ffffff", stroke: "#4a78b0" },
  input: { head: "#dff2e3", body: "#ffffff", stroke: "#3d8b55" },
  constant: { head: "#ececec", body: "#ffffff", stroke: "#8a8a8a" },
};
const OP_GLYPH: Record<TreeOperator, string> = { "+": "+", "-": "−", "*": "×", "/": "÷" };

const r = (n: number) => String(Math.round(n * 100) / 100);

/** Grouped digits, at most 4 decimals below 1,000 and none above; null → `—`. */
export function formatTreeValue(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "—";
  const abs = Math.abs(v);
  if (abs !== 0 && (abs >= 1e15 || abs < 1e-6)) return v.toExponential(3);
  const digits = abs >= 1000 ? 0 : abs >= 1 ? 2 : 4;
  return new Intl.NumberFormat("en-US", { maximumFractionDigits: digits }).format(v);
}

function signed(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "—";
  return v > 0 ? `+${formatTreeValue(v)}` : formatTreeValue(v);
}

type Box = { node: TreeImageNode; col: number; row: number; x: number; y: number; w: number; h: number };

function lines(n: TreeImageNode, withPolicies: boolean): { text: string; fill: string }[] {
  const out = [{ text: `基準 ${formatTreeValue(n.baseline)}`, fill: TEXT }];
  if (withPolicies) {
    out.push({ text: `施策後 ${formatTreeValue(n.simulated)}`, fill: TEXT });
    const pct =
      n.delta !== null && n.baseline !== null && n.baseline !== 0 && n.delta !== 0
        ? ` (${n.delta > 0 ? "+" : ""}${((n.delta / Math.abs(n.baseline)) * 100).toFixed(1)}%)`
        : "";
    const fill = n.delta === null || n.delta === 0 ? MUTED : n.delta > 0 ? UP : DOWN;
    out.push({ text: `差分 ${signed(n.delta)}${pct}`, fill });
  }
  return out;
}

/** The picture of an evaluated tree, sized to fit every box. */
export function renderTreeSvg(m: TreeImageModel, fonts: ChartFonts): TreeImage {
  const measure = (s: string, size: number, bold = false) =>
    (bold ? fonts.bold : fonts.regular).measure(cleanText(s), size);
  const fit = (s: string, size: number, max: number, bold = false) => {
    const clean = cleanText(s);
    if (measure(clean, size, bold) <= max) return clean;
    const chars = [...clean];
    let n = chars.length;
    while (n > 0 && measure(`${chars.slice(0, n).join("")}…`, size, bold) > max) n--;
    return `${chars.slice(0, n).join("")}…`;
  };

  const byId = new Map(m.nodes.map((n) => [n.id, n]));
  const outline = treeOutline(m.rootId, m.nodes, m.relationships);
  const kids = new Map<string, string[]>();
  for (const e of outline) {
    if (e.parentId === null) continue;
    const list = kids.get(e.parentId) ?? [];
    list.push(e.id);
    kids.set(e.parentId, list);
  }

  // Rows: leaves of the outline take consecutive rows; a parent sits between its first and last child.
  const row = new Map<string, number>();
  let next = 0;
  const starts = outline.filter((e) => e.parentId === null).map((e) => e.id);
  for (const start of starts) {
    const stack: [string, boolean][] = [[start, false]];
    while (stack.length > 0) {
      const [id, expanded] = stack.pop() as [string, boolean];
      const list = kids.get(id) ?? [];
      if (list.length === 0) {
        row.set(id, next++);
      } else if (expanded) {
        row.set(id, ((row.get(list[0]) as number) + (row.get(list[list.length - 1]) as number)) / 2);
      } else {
        stack.push([id, true]);
        for (let i = list.length - 1; i >= 0; i--) stack.push([list[i], false]);
      }
    }
    next += 0.35; // a little air between the root's part and each detached part
  }

  const lineCount = m.withPolicies ? 3 : 1;
  const boxH = 30 + lineCount * LINE + 8;
  const depth = new Map(outline.map((e) => [e.id, e.depth]));
  const maxDepth = Math.max(0, ...outline.map((e) => e.depth));
  const colW = new Array<number>(maxDepth + 1).fill(MIN_BOX);
  for (const e of outline) {
    const n = byId.get(e.id) as TreeImageNode;
    const head = measure(n.label, LABEL_FONT, true) + (n.unit ? measure(` (${n.unit})`, VALUE_FONT) : 0);
    const badge = n.policyCount > 0 ? 26 : 0;
    const body = Math.max(...lines(n, m.withPolicies).map((l) => measure(l.text, VALUE_FONT)));
    colW[e.depth] = Math.min(MAX_BOX, Math.max(colW[e.depth], head + badge, body) + 2 * PAD_X);
  }
  const colX: number[] = [];
  let x = MARGIN;
  for (let c = 0; c <= maxDepth; c++) {
    colX.push(x);
    x += colW[c] + COL_GAP;
  }
  const rows = Math.max(1, next - 0.35);
  const contentW = x - COL_GAP + MARGIN;
  const titleW = Math.max(measure(m.title, 18, true), measure(m.subtitle, 12)) + 2 * MARGIN;
  const width = Math.ceil(Math.max(contentW, titleW, 320));
  const height = Math.ceil(HEADER + rows * (boxH + ROW_GAP) - ROW_GAP + MARGIN);

  const boxes = new Map<string, Box>();
  for (const e of outline) {
    const col = depth.get(e.id) as number;
    const rw = row.get(e.id) as number;
    boxes.set(e.id, {
      node: byId.get(e.id) as TreeImageNode,
      col,
      row: rw,
      x: colX[col],
      y: HEADER + rw * (boxH + ROW_GAP),
      w: colW[col],
      h: boxH,
    });
  }

  const parts: string[] = [];
  const text = (
    tx: number,
    ty: number,
    s: string,
    o: { size: number; bold?: boolean; fill?: string; anchor?: "middle" | "end" },
  ) =>
    parts.push(
      `<text x="${r(tx)}" y="${r(ty)}" font-size="${o.size}"${o.anchor ? ` text-anchor="${o.anchor}"` : ""}${
        o.bold ? ` font-weight="bold"` : ""
      } fill="${o.fill ?? TEXT}">${escapeXml(cleanText(s))}</text>`,
    );

  text(MARGIN, 30, fit(m.title, 18, width - 2 * MARGIN, true), { size: 18, bold: true });
  text(MARGIN, 50, fit(m.subtitle, 12, width - 2 * MARGIN), { size: 12, fill: MUTED });

  // Links first, so boxes sit on top: an elbow from the parent's right edge to each child's left
  // edge through a junction, with the operator in a circle at the junction.
  const ops: string[] = [];
  for (const rel of m.relationships) {
    const p = boxes.get(rel.parentId);
    if (!p) continue;
    const py = p.y + p.h / 2;
    const jx = p.x + p.w + COL_GAP / 2;
    const own = kids.get(rel.parentId) ?? [];
    for (const c of rel.childIds) {
      const b = boxes.get(c);
      if (!b) continue;
      const cy = b.y + b.h / 2;
      if (own.includes(c)) {
        parts.push(
          `<path d="M${r(p.x + p.w)} ${r(py)}H${r(jx)}V${r(cy)}H${r(b.x)}" fill="none" stroke="${LINK}" stroke-width="1.5"/>`,
        );
      } else {
        // A further parent of a shared node: a dashed curve to wherever that node was placed.
        const ex = b.x;
        parts.push(
          `<path d="M${r(p.x + p.w)} ${r(py)}C${r(jx + 40)} ${r(py)} ${r(ex - 40)} ${r(cy)} ${r(ex)} ${r(cy)}" fill="none" stroke="${LINK}" stroke-width="1.2" stroke-dasharray="5 4"/>`,
        );
      }
    }
    ops.push(
      `<circle cx="${r(jx)}" cy="${r(py)}" r="11" fill="#ffffff" stroke="${LINK}" stroke-width="1.5"/>`,
      `<text x="${r(jx)}" y="${r(py + 5.5)}" font-size="16" font-weight="bold" text-anchor="middle" fill="${TEXT}">${escapeXml(
        OP_GLYPH[rel.operator],
      )}</text>`,
    );
  }
  parts.push(...ops);

  for (const b of boxes.values()) {
    const n = b.node;
    const fill = FILL[n.nodeType];
    const marked = n.policyCount > 0;
    const stroke = marked ? POLICY : fill.stroke;
    const sw = marked ? 2.5 : 1.2;
    parts.push(
      `<rect x="${r(b.x)}" y="${r(b.y)}" width="${r(b.w)}" height="${r(b.h)}" rx="6" fill="${fill.body}" stroke="${stroke}" stroke-width="${sw}"/>`,
      `<path d="M${r(b.x + 6)} ${r(b.y)}H${r(b.x + b.w - 6)}A6 6 0 0 1 ${r(b.x + b.w)} ${r(b.y + 6)}V${r(b.y + 28)}H${r(b.x)}V${r(b.y + 6)}A6 6 0 0 1 ${r(b.x + 6)} ${r(b.y)}Z" fill="${fill.head}"/>`,
      `<rect x="${r(b.x)}" y="${r(b.y)}" width="${r(b.w)}" height="${r(b.h)}" rx="6" fill="none" stroke="${stroke}" stroke-width="${sw}"/>`,
    );
    const badge = marked ? 26 : 0;
    const unit = n.unit ? ` (${n.unit})` : "";
    const unitW = unit ? measure(unit, VALUE_FONT) : 0;
    const labelRoom = b.w - 2 * PAD_X - badge - unitW;
    const label = fit(n.label, LABEL_FONT, Math.max(24, labelRoom), true);
    text(b.x + PAD_X, b.y + 20, label, { size: LABEL_FONT, bold: true });
    if (unit) {
      text(b.x + PAD_X + measure(label, LABEL_FONT, true), b.y + 20, unit, { size: VALUE_FONT, fill: MUTED });
    }
    if (marked) {
      const cx = b.x + b.w - PAD_X - 8;
      parts.push(`<circle cx="${r(cx)}" cy="${r(b.y + 14)}" r="10" fill="${POLICY}"/>`);
      text(cx, b.y + 18.5, n.policyCount > 9 ? "9+" : `施`, {
        size: 11,
        bold: true,
        fill: "#ffffff",
        anchor: "middle",
      });
    }
    lines(n, m.withPolicies).forEach((l, i) => {
      text(b.x + PAD_X, b.y + 28 + 17 + i * LINE, fit(l.text, VALUE_FONT, b.w - 2 * PAD_X), {
        size: VALUE_FONT,
        fill: l.fill,
      });
    });
  }

  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="${FONT_FAMILY}"><rect width="${width}" height="${height}" fill="#ffffff"/>${parts.join("")}</svg>`;
  return { svg, width, height };
}
