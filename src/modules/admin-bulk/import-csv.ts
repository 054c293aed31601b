import { CsvError, parse } from "csv-parse/sync";
import { problem } from "@/lib/errors";

/*
 * The user-import file of api.md §2.12.9: bytes → text → rows. Japanese offices export CSV from
 * Excel as Shift_JIS, everything else as UTF-8 (with or without BOM): a file that is valid UTF-8
 * is read as UTF-8, anything else as Shift_JIS, and a file that is neither is refused.
 */

export const IMPORT_MAX_ROWS = 1000;
const SYSTEM_ROLES = new Set(["system_admin", "user"]);
/* Deliberately plain: one @, no spaces, a dot in the domain; the directory has the last word. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const csvInvalid = (detail: string) => problem("CSV_INVALID", { detail });

export function decodeCsv(bytes: Uint8Array): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw csvInvalid("UTF-16 is not accepted; save the file as UTF-8 or Shift_JIS.");
  }
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    /* not UTF-8: Shift_JIS below */
  }
  try {
    return new TextDecoder("shift_jis", { fatal: true }).decode(body);
  } catch {
    throw csvInvalid("The file is neither UTF-8 nor Shift_JIS.");
  }
}

export type ImportRow = {
  /** Line of the file (the header is line 1). */
  row: number;
  email: string;
  displayName: string | null;
  roles: string[];
  error?: { code: string; detail: string };
};

/** Header and shape checks raise CSV_INVALID / BULK_LIMIT_EXCEEDED; a bad value fails its row only. */
export function parseImport(text: string): ImportRow[] {
  let records: string[][];
  try {
    records = parse(text, { skip_empty_lines: true, relax_column_count: true, bom: true });
  } catch (err) {
    if (err instanceof CsvError) throw csvInvalid(`The CSV cannot be parsed: ${err.message}`);
    throw err;
  }
  const header = (records[0] ?? []).map((h) => h.trim().toLowerCase());
  const withRoles = header.length === 3 && header[2] === "roles";
  if (header[0] !== "email" || header[1] !== "display_name" || !(header.length === 2 || withRoles)) {
    throw csvInvalid(
      `The header must be email,display_name[,roles]; got ${JSON.stringify(records[0] ?? [])}.`,
    );
  }
  const data = records.slice(1);
  if (data.length > IMPORT_MAX_ROWS) {
    throw problem("BULK_LIMIT_EXCEEDED", {
      detail: `The file has ${data.length} data rows; at most ${IMPORT_MAX_ROWS} are accepted.`,
    });
  }
  return data.map((cells, i) => {
    const row = i + 2;
    const email = (cells[0] ?? "").trim();
    const name = (cells[1] ?? "").trim();
    const rawRoles = withRoles ? (cells[2] ?? "").trim() : "";
    const out: ImportRow = { row, email, displayName: name === "" ? null : name, roles: ["user"] };
    const fail = (code: string, detail: string) => ({ ...out, error: { code, detail } });
    if (cells.length !== header.length) {
      return fail("ROW_SHAPE_INVALID", `Expected ${header.length} cells, found ${cells.length}.`);
    }
    if (email.length > 320 || !EMAIL.test(email)) return fail("EMAIL_INVALID", "Not an e-mail address.");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    if (name.length > 255 || /[\u0000-\u001f\u007f]/.test(name)) {
      return fail("DISPLAY_NAME_INVALID", "display_name is over 255 characters or has control characters.");
    }
    const roles = rawRoles === "" ? [] : rawRoles.split(";").map((r) => r.trim().toLowerCase());
    const unknown = roles.filter((r) => !SYSTEM_ROLES.has(r));
    if (unknown.length > 0) return fail("ROLE_INVALID", `Unknown role(s): ${unknown.join(", ")}.`);
    // `user` is the base role every account keeps; admins hold both (as user-account does).
    out.roles = roles.includes("system_admin") ? ["system_admin", "user"] : ["user"];
    return out;
  });
}
