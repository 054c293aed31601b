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
  const sniff = async (bytes: number[] | Uint8Array, kind: "csv" | "txt" = "csv") => {
    const s = new ContentSniffer();
    s.feed(new Uint8Array(bytes));
    return s.matches(kind);
  };
  const le = (text: string) => [
    0xff,
    0xfe,
    ...[...text].flatMap((c) => [c.charCodeAt(0) & 0xff, c.charCodeAt(0) >> 8]),
  ];

  test("UTF-16 with a BOM is text despite its NUL bytes; without a BOM NUL means binary", async () => {
    expect(await sniff(le("a\tb\r\n1\t2\r\n"))).toBe(true);
    expect(await sniff([0xfe, 0xff, 0x00, 0x61, 0x00, 0x0a])).toBe(true);
    expect(await sniff(le("a\tb").slice(2))).toBe(false);
    // An odd byte count or a lone surrogate is not UTF-16.
    expect(await sniff([...le("ab"), 0x61])).toBe(false);
    expect(await sniff([0xff, 0xfe, 0x00, 0xdc, 0x61, 0x00])).toBe(false);
  });

  test("any 8-bit encoding passes (latin-1, EUC-JP, Shift_JIS, UTF-8)", async () => {
    expect(await sniff([0x63, 0x61, 0x66, 0xe9, 0x2c, 0x31, 0x0a])).toBe(true);
    expect(await sniff([0xc7, 0xe4, 0xbe, 0xe5, 0x2c, 0x31, 0x0a], "txt")).toBe(true);
    expect(await sniff(new TextEncoder().encode("売上,1\n"))).toBe(true);
  });

  test("a UTF-16 sample cut inside a surrogate pair is still text while streaming", async () => {
    // 8 KiB head ending between the two halves of U+1F600.
    const units = [0xfeff, ...Array(4094).fill(0x61), 0xd83d, 0xde00];
    const bytes = new Uint8Array(units.flatMap((u) => [u & 0xff, u >> 8]));
    const s = new ContentSniffer();
    s.feed(bytes.subarray(0, 8192));
    expect(await s.headMismatch("csv")).toBe(false);
    s.feed(bytes.subarray(8192));
    expect(await s.matches("csv")).toBe(true);
  });
});

describe("binary signatures (file-type)", () => {
  const PNG = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
  ];
  const SAMPLES = {
    png: PNG,
    pdf: [...new TextEncoder().encode("%PDF-1.7\n%\xe2\xe3\n1 0 obj\n")],
    jpeg: [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01],
    gif: [...new TextEncoder().encode("GIF89a"), 1, 0, 1, 0, 0, 0, 0],
    xls: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, ...Array(504).fill(0)],
  } as const;
  const sniffer = (bytes: readonly number[]) => {
    const s = new ContentSniffer();
    s.feed(new Uint8Array(bytes));
    return s;
  };

  test("each binary kind accepts its own signature and refuses every other", async () => {
    for (const [kind, bytes] of Object.entries(SAMPLES)) {
      for (const other of Object.keys(SAMPLES) as (keyof typeof SAMPLES)[]) {
        expect({ kind, other, ok: await sniffer(bytes).matches(other) }).toEqual({
          kind,
          other,
          ok: kind === other,
        });
      }
      expect(await sniffer(bytes).headMismatch(kind as keyof typeof SAMPLES)).toBe(false);
    }
  });

  test("text named as an image is refused early; a short head decides nothing yet", async () => {
    const text = [...new TextEncoder().encode("hello, world\n".repeat(8))];
    expect(await sniffer(text).headMismatch("png")).toBe(true);
    expect(await sniffer(text.slice(0, 12)).headMismatch("png")).toBe(false);
    expect(await sniffer([...new TextEncoder().encode("hello, world")]).matches("png")).toBe(false);
    const short = new ContentSniffer();
    short.feed(new Uint8Array([0x89, 0x50]));
    expect(await short.headMismatch("png")).toBe(false);
  });

  test("a PNG signature followed by no image header is not a PNG", async () => {
    expect(
      await sniffer([...PNG.slice(0, 8), ...new TextEncoder().encode("not a chunk at all")]).matches("png"),
    ).toBe(false);
  });
});
