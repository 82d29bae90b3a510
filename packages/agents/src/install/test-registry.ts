import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { pack as tarPack } from "tar-stream";

/** A gzipped npm-style tarball holding `package/<path>` for each file. */
export async function makePackageTarball(
  files: Record<string, { content: string | Uint8Array; mode?: number }>,
): Promise<Buffer> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on("data", (chunk: unknown) => chunks.push(chunk as Buffer));
    pack.on("end", resolve);
    pack.on("error", reject);
  });
  for (const [path, file] of Object.entries(files)) {
    pack.entry({ name: `package/${path}`, mode: file.mode ?? 0o644 }, Buffer.from(file.content));
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

export const sri = (data: Uint8Array) => `sha512-${createHash("sha512").update(data).digest("base64")}`;

export interface StaticServer {
  url: string;
  /** Requests served, by path. */
  hits: Map<string, number>;
  /** Replace or add a route. */
  route(path: string, status: number, body: string | Uint8Array, type?: string): void;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 (ephemeral port) serving fixed bodies by path. */
export async function startStaticServer(): Promise<StaticServer> {
  const routes = new Map<string, { status: number; body: Buffer; type: string }>();
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const found = routes.get(path);
    if (!found) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(found.status, { "content-type": found.type, "content-length": found.body.length }).end(found.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hits,
    route(path, status, body, type = "application/octet-stream") {
      routes.set(path, { status, body: Buffer.from(body), type });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Publishes one version of a package on a StaticServer the way the npm registry lays it out. */
export function publishFakePackage(
  server: StaticServer,
  name: string,
  version: string,
  tarball: Uint8Array,
  options: { integrity?: string } = {},
): { packumentPath: string; tarballPath: string } {
  const { packumentPath, tarballPaths } = publishFakeVersions(server, name, {
    latest: version,
    versions: { [version]: tarball },
    integrity: options.integrity,
  });
  return { packumentPath, tarballPath: tarballPaths[version] ?? "" };
}

/** Publishes several versions of one package (with `latest` as its dist-tag, or none). */
export function publishFakeVersions(
  server: StaticServer,
  name: string,
  options: { latest?: string; versions: Record<string, Uint8Array>; integrity?: string },
): { packumentPath: string; tarballPaths: Record<string, string> } {
  const packumentPath = `/${name.replace("/", "%2f")}`;
  const tarballPaths: Record<string, string> = {};
  const versions: Record<string, unknown> = {};
  for (const [version, tarball] of Object.entries(options.versions)) {
    const tarballPath = `/${name}/-/${name.split("/").pop()}-${version}.tgz`;
    tarballPaths[version] = tarballPath;
    versions[version] = {
      name,
      version,
      dist: { tarball: `${server.url}${tarballPath}`, integrity: options.integrity ?? sri(tarball) },
    };
    server.route(tarballPath, 200, tarball);
  }
  const packument = { name, "dist-tags": options.latest ? { latest: options.latest } : {}, versions };
  server.route(packumentPath, 200, JSON.stringify(packument), "application/json");
  return { packumentPath, tarballPaths };
}
