import type { NotificationType } from "@/db/schema/collaboration";

/*
 * The built-in text of every notification type in both languages (api.md §2.12.7). The same text
 * seeds `notification_template`, and a producer falls back to it when the row is missing or
 * inactive, so a fresh or unseeded database renders exactly what a seeded one does.
 */

export type Language = "ja" | "en";
export type TemplateText = { name: string; title: string; body: string };

export const TEMPLATE_VARIABLES: Record<NotificationType, readonly string[]> = {
  member_added: ["projectName", "actorName", "role"],
  member_removed: ["projectName", "actorName"],
  file_uploaded: ["projectName", "actorName", "fileName", "version"],
  session_completed: ["projectName", "actorName", "sessionName"],
  tree_updated: ["projectName", "actorName", "treeName", "message"],
  announcement: ["title", "content", "announcementType"],
};

export const BUILT_IN: Record<NotificationType, Record<Language, TemplateText>> = {
  member_added: {
    ja: {
      name: "メンバー追加",
      title: "プロジェクト「{projectName}」に追加されました",
      body: "{actorName} さんがあなたを {role} として追加しました。",
    },
    en: {
      name: "Member added",
      title: "You were added to {projectName}",
      body: "{actorName} added you as {role}.",
    },
  },
  member_removed: {
    ja: {
      name: "メンバー削除",
      title: "プロジェクト「{projectName}」から外されました",
      body: "{actorName} さんがあなたをプロジェクトから外しました。",
    },
    en: {
      name: "Member removed",
      title: "You were removed from {projectName}",
      body: "{actorName} removed you from the project.",
    },
  },
  file_uploaded: {
    ja: {
      name: "ファイルアップロード",
      title: "{projectName} にファイルがアップロードされました",
      body: "{actorName} さんが {fileName}（バージョン {version}）をアップロードしました。",
    },
    en: {
      name: "File uploaded",
      title: "New file in {projectName}",
      body: "{actorName} uploaded {fileName} (version {version}).",
    },
  },
  session_completed: {
    ja: {
      name: "分析セッション完了",
      title: "分析セッション「{sessionName}」が完了しました",
      body: "{actorName} さんが {projectName} のセッションを完了にしました。",
    },
    en: {
      name: "Session completed",
      title: "Analysis session {sessionName} completed",
      body: "{actorName} marked the session in {projectName} as completed.",
    },
  },
  tree_updated: {
    ja: {
      name: "ドライバーツリー更新",
      title: "ドライバーツリー「{treeName}」が更新されました",
      body: "{actorName} さん: {message}",
    },
    en: {
      name: "Driver tree updated",
      title: "Driver tree {treeName} was updated",
      body: "{actorName}: {message}",
    },
  },
  announcement: {
    ja: { name: "お知らせ", title: "{title}", body: "{content}" },
    en: { name: "Announcement", title: "{title}", body: "{content}" },
  },
};

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_]*)\}/g;

/** The `{name}` placeholders a template text uses. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

/** Replaces every known `{name}`; an unknown one stays as written rather than vanishing. */
export function render(text: string, vars: Record<string, string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => (name in vars ? vars[name] : whole));
}
