import { describe, expect, test } from "bun:test";
import { ContentSniffer, contentDisposition } from "./file-types";

const parts = (header: string) => {
  const m = /^(\w+); filename="([^"]*)"; filename\*=UTF-8''(.+)$/.exec(header);
  if (!m) throw new Error(`unexpected header ${header}`);
  return { type: m[1], ascii: m[2], utf8: decodeURIComponent(m[3]) };
};

describe("contentDisposition", () => {
  test("the ASCII fallback is the sanitised basename, never a path", () => {
    expect(contentDisposition("../../etc/passwd.csv")).toBe(
      `attachment; filename="passwd.csv"; filename*=UTF-8''passwd.csv`,
    );
    expect(parts(contentDisposition("..\\\\..\\\\boot.ini.txt")).ascii).toBe("boot.ini.txt");
  });

  test("filename* keeps the display name; the fallback is printable ASCII without quotes", () => {
    for (const [name, ascii] of [
      ["売上 データ（2024）.xlsx", "2024.xlsx"],
      ["Café menu.pdf", "Cafe_menu.pdf"],
      ['a "quoted"\\\\name;.csv', "name.csv"],
      ["売上.csv", "download.csv"],
      ["report (final)*.txt", "report_final.txt"],
      ["\r\nx-evil: 1.csv", "x-evil_1.csv"],
    ] as const) {
      const p = parts(contentDisposition(name, "inline"));
      expect({ name, type: p.type, ascii: p.ascii, utf8: p.utf8 }).toEqual({
        name,
        type: "inline",
        ascii,
        utf8: name.split(/[\\\\/]/).pop()!,
      });
      expect(p.ascii).toMatch(/^[\x21-\x7e]+$/);
    }
  });
});

describe("text signature (api.md §2.5)", () => {
  const sniff = (bytes: number[] | Uint8Array, kind: "csv" | "txt" = "csv") => {
    const s = new ContentSniffer();
    s.feed(new Uint8Array(bytes));
    return s.matches(kind);
  };
  const le = (text: string) => [
    0xff,
    0xfe,
    ...[...text].flatMap((c) => [c.charCodeAt(0) & 0xff, c.charCodeAt(0) >> 8]),
  ];

  test("UTF-16 with a BOM is text despite its NUL bytes; without a BOM NUL means binary", () => {
    expect(sniff(le("a\tb\r\n1\t2\r\n"))).toBe(true);
    expect(sniff([0xfe, 0xff, 0x00, 0x61, 0x00, 0x0a])).toBe(true);
    expect(sniff(le("a\tb").slice(2))).toBe(false);
    // An odd byte count or a lone surrogate is not UTF-16.
    expect(sniff([...le("ab"), 0x61])).toBe(false);
    expect(sniff([0xff, 0xfe, 0x00, 0xdc, 0x61, 0x00])).toBe(false);
  });

  test("any 8-bit encoding passes (latin-1, EUC-JP, Shift_JIS, UTF-8)", () => {
    expect(sniff([0x63, 0x61, 0x66, 0xe9, 0x2c, 0x31, 0x0a])).toBe(true);
    expect(sniff([0xc7, 0xe4, 0xbe, 0xe5, 0x2c, 0x31, 0x0a], "txt")).toBe(true);
    expect(sniff(new TextEncoder().encode("売上,1\n"))).toBe(true);
  });

  test("a UTF-16 sample cut inside a surrogate pair is still text while streaming", () => {
    // 8 KiB head ending between the two halves of U+1F600.
    const units = [0xfeff, ...Array(4094).fill(0x61), 0xd83d, 0xde00];
    const bytes = new Uint8Array(units.flatMap((u) => [u & 0xff, u >> 8]));
    const s = new ContentSniffer();
    s.feed(bytes.subarray(0, 8192));
    expect(s.headMismatch("csv")).toBe(false);
    s.feed(bytes.subarray(8192));
    expect(s.matches("csv")).toBe(true);
  });
});
