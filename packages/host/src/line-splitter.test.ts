import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { LineSplitter, splitLines } from "./line-splitter.js";

describe("LineSplitter", () => {
  it("holds a partial line until its newline and keeps \\r", () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from("a\r\nb"))).toEqual(["a\r"]);
    expect(s.push(Buffer.from("c"))).toEqual([]);
    expect(s.partialBytes).toBe(2);
    expect(s.push(Buffer.from("\n\nd\n"))).toEqual(["bc", "", "d"]);
    expect(s.flush()).toBeNull();
  });

  it("decodes a character split across chunks and replaces invalid bytes", () => {
    const s = new LineSplitter();
    const euro = Buffer.from("€\n");
    expect(s.push(euro.subarray(0, 1))).toEqual([]);
    expect(s.push(euro.subarray(1))).toEqual(["€"]);
    expect(s.push(Buffer.from([0x61, 0xff, 0x62, 0x0a]))).toEqual(["a\uFFFDb"]);
  });

  it("passes a 10 MiB line intact from many chunks", async () => {
    const line = "x".repeat(10 * 1024 * 1024);
    const chunks = [];
    for (let i = 0; i < line.length; i += 65536) chunks.push(Buffer.from(line.slice(i, i + 65536)));
    chunks.push(Buffer.from("\ntail"));
    const lines = [];
    for await (const l of splitLines(Readable.from(chunks))) lines.push(l);
    expect(lines.length).toBe(2);
    expect(lines[0]?.length).toBe(line.length);
    expect(lines[0] === line).toBe(true);
    expect(lines[1]).toBe("tail");
  });

  it("splits 100,000 short lines arriving in one chunk", async () => {
    const text = Array.from({ length: 100_000 }, (_, i) => `line ${i}`).join("\n") + "\n";
    const lines = [];
    for await (const l of splitLines([Buffer.from(text)], { trailing: false })) lines.push(l);
    expect(lines.length).toBe(100_000);
    expect(lines[99_999]).toBe("line 99999");
  });

  it("drops a trailing partial line when asked", async () => {
    const lines = [];
    for await (const l of splitLines(["a\nb"], { trailing: false })) lines.push(l);
    expect(lines).toEqual(["a"]);
  });

  it("cuts lines over maxLineBytes wherever they fall, reporting each once", () => {
    const cut: string[] = [];
    const s = new LineSplitter({ maxLineBytes: 4, onLongLine: (head) => cut.push(head) });
    expect(s.push(Buffer.from("ok\ntoolong\nfine\nab"))).toEqual(["ok", "fine"]);
    expect(s.push(Buffer.from("cdef"))).toEqual([]);
    expect(s.partialBytes).toBe(0);
    expect(s.push(Buffer.from("gh\nend\n"))).toEqual(["end"]);
    expect(s.push(Buffer.from("abcd\n"))).toEqual(["abcd"]);
    expect(cut).toEqual(["toolong", "ab"]);
  });

  it("keeps the whole lines after a held line that turned out too long in the same chunk", () => {
    const cut: string[] = [];
    const s = new LineSplitter({ maxLineBytes: 4, onLongLine: (head) => cut.push(head) });
    expect(s.push(Buffer.from("ab"))).toEqual([]);
    expect(s.push(Buffer.from("cde\na\nb\n"))).toEqual(["a", "b"]);
    expect(s.push(Buffer.from("x"))).toEqual([]);
    expect(s.push(Buffer.from("y\nz\n"))).toEqual(["xy", "z"]);
    expect(cut).toEqual(["ab"]);
  });

  it("holds nothing of an endless line", () => {
    const cut: string[] = [];
    const s = new LineSplitter({ maxLineBytes: 1024, onLongLine: (head) => cut.push(head) });
    const zeros = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 100; i++) expect(s.push(zeros)).toEqual([]);
    expect(s.partialBytes).toBe(0);
    expect(cut.length).toBe(1);
    expect(s.push(Buffer.from("\nnext\n"))).toEqual(["next"]);
  });
});
