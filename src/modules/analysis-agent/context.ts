import { sha256Hex } from "@/engine";
import type { Msg, SystemBlock } from "@/lib/llm/types";
import productPrompt from "./prompts/analysis-agent.v1.md" with { type: "text" };
import { overview, stepOverview } from "./tools";
import type { WorkingCopy } from "./working-copy";

/*
 * The three system blocks and the message history of a turn (analysis.md §5.2). Block A is the
 * versioned product prompt, B the session's own instructions, C the data and pipeline state,
 * rebuilt at every turn and bounded in size.
 */

export const PROMPT_VERSION = "analysis-agent.v1";
export const PROMPT_HASH = sha256Hex(productPrompt).slice(0, 16);

export type ChatLine = { role: string; message: string };
export type Pair = { user: string; assistant: string };

export function sessionBlock(input: {
  issueName: string;
  recipe: string | null;
  customSystemPrompt: string | null;
  initialMessage: string | null;
  conversationSummary: string | null;
}): string {
  const parts = [`# 課題\n${input.issueName}`];
  if (input.recipe) parts.push(`# 課題のレシピ\n${input.recipe}`);
  if (input.customSystemPrompt) {
    parts.push(`# セッション所有者からの追加指示\n${input.customSystemPrompt}`);
  }
  if (input.initialMessage) parts.push(`# ユーザーに最初に表示したメッセージ\n${input.initialMessage}`);
  if (input.conversationSummary) parts.push(`# これまでの会話の要約\n${input.conversationSummary}`);
  return parts.join("\n\n");
}

// The input never changes within a turn; its overview is rebuilt for every LLM call otherwise.
const overviews = new WeakMap<object, Map<number, ReturnType<typeof overview>>>();
function originalOverview(copy: WorkingCopy, topN: number) {
  let byTopN = overviews.get(copy.frame);
  if (!byTopN) {
    byTopN = new Map();
    overviews.set(copy.frame, byTopN);
  }
  let o = byTopN.get(topN);
  if (!o) {
    o = overview(copy.frame, topN);
    byTopN.set(topN, o);
  }
  return o;
}

/** Block C: overview of `original` and of the steps, shrunk until it fits `maxChars`. */
export function stateBlock(copy: WorkingCopy, maxChars: number): string {
  const steps = stepOverview(copy).map(({ dependants: _d, dependsOn: _o, ...s }) => s);
  for (const topN of [20, 10, 5]) {
    const text = render(originalOverview(copy, topN), steps);
    if (text.length <= maxChars) return text;
  }
  const full = originalOverview(copy, 5);
  const [first, rest] = [full.columns.slice(0, 10), full.columns.slice(10)];
  const text = render(
    { ...full, columns: [...first, ...rest.map((c) => ({ name: c.name, kind: c.kind }))] },
    steps,
  );
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 12)}\n…(truncated)`;
}

function render(data: unknown, steps: unknown): string {
  return `# 入力データ (original) の概要\n${JSON.stringify(data)}\n\n# パイプラインのステップ\n${JSON.stringify(steps)}`;
}

export function systemBlocks(session: string, state: string): SystemBlock[] {
  return [{ text: productPrompt, cache: true }, { text: session }, { text: state }];
}

/** User/assistant pairs of the stored chat, oldest first (system and opening messages skipped). */
export function pairsOf(chats: ChatLine[]): Pair[] {
  const pairs: Pair[] = [];
  for (let i = 0; i < chats.length; i++) {
    if (chats[i].role !== "user") continue;
    const next = chats[i + 1];
    pairs.push({ user: chats[i].message, assistant: next?.role === "assistant" ? next.message : "" });
  }
  return pairs;
}

/** The pairs sent verbatim and the older ones to fold into the summary. */
export function splitHistory(pairs: Pair[], turns: number, maxChars: number) {
  const kept: Pair[] = [];
  let chars = 0;
  for (let i = pairs.length - 1; i >= 0 && kept.length < turns; i--) {
    const size = pairs[i].user.length + pairs[i].assistant.length;
    if (chars + size > maxChars) break;
    chars += size;
    kept.unshift(pairs[i]);
  }
  return { kept, folded: pairs.slice(0, pairs.length - kept.length) };
}

export function historyMessages(kept: Pair[]): Msg[] {
  const msgs: Msg[] = [];
  for (const p of kept) {
    msgs.push({ role: "user", content: p.user });
    // An empty assistant text would be refused by the providers; a placeholder keeps alternation.
    msgs.push({ role: "assistant", content: p.assistant || "(応答なし)" });
  }
  return msgs;
}

/** Deterministic digest of folded turns (AGENT_HISTORY_SUMMARY=truncate, or when the LLM call fails). */
export function digest(folded: Pair[]): string {
  return folded
    .map(
      (p, i) => `${i + 1}. ユーザー: ${p.user.slice(0, 200)}\n   アシスタント: ${p.assistant.slice(0, 300)}`,
    )
    .join("\n");
}

const MARK = /^<!--folded:(\d+)-->\n?/;

/** Stored summaries carry how many pairs they cover, so a summary is computed once and reused. */
export const markSummary = (count: number, text: string) => `<!--folded:${count}-->\n${text}`;
export function readSummary(stored: string | null): { count: number; text: string } | null {
  if (!stored) return null;
  const m = MARK.exec(stored);
  return m ? { count: Number(m[1]), text: stored.slice(m[0].length) } : { count: 0, text: stored };
}
