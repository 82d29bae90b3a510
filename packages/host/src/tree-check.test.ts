import { describe, expect, it } from "vitest";
import { ArchiveError, PathEscapeError } from "./errors.js";
import { checkTreeListing } from "./tree-check.js";

/** find's output for these (type, path, target) entries. */
const listing = (...entries: Array<[string, string, string]>) => entries.map((e) => `${e.join("\0")}\0`).join("");

describe("checkTreeListing", () => {
  it("accepts links that stay inside, through other links, in any order", () => {
    expect(() => checkTreeListing("")).not.toThrow();
    expect(() =>
      checkTreeListing(
        listing(
          ["l", "a/up", "../b"],
          ["l", "b", "c/d"],
          ["l", "self", "."],
          ["l", "x", "self/a/.."],
          ["l", "y", "a/up/../c"],
        ),
      ),
    ).not.toThrow();
  });

  it("refuses a chain of links whose resolution leaves the tree, whatever their order", () => {
    const chain: Array<[string, string, string]> = [
      ["l", "x", "."],
      ["l", "u", "x/.."],
      ["l", "v", "u/.."],
      ["l", "w", "v/.."],
    ];
    expect(() => checkTreeListing(listing(...chain))).toThrow(PathEscapeError);
    expect(() => checkTreeListing(listing(...[...chain].reverse()))).toThrow(PathEscapeError);
    expect(() => checkTreeListing(listing(["l", "d/e", "../../etc"]))).toThrow(PathEscapeError);
    expect(() => checkTreeListing(listing(["l", "abs", "/etc"]))).toThrow(PathEscapeError);
    expect(() => checkTreeListing(listing(["l", "loop", "loop/x"]))).toThrow(PathEscapeError);
  });

  it("refuses FIFOs, sockets and devices", () => {
    for (const type of ["p", "s", "c", "b"])
      expect(() => checkTreeListing(listing([type, "special", ""]))).toThrow(ArchiveError);
  });
});
