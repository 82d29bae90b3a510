/**
 * `value` as a bare origin (`http(s)://host[:port]`, no path, query or
 * credentials), or null: a browser's Origin header never carries more, so an
 * entry with more could never match and is a mistake to report early.
 */
export function bareOrigin(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  return url.origin === value.replace(/\/$/, "") ? url.origin : null;
}
