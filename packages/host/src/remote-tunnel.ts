import net from "node:net";
import type { Tunnel } from "./host.js";
import type { SshConnection } from "./ssh-connection.js";

/**
 * A listener on 127.0.0.1 of the worker whose connections are forwarded to
 * `target:remotePort` as seen from the host. Losing the connection closes it;
 * `onClose` is told when it closes.
 */
export async function forwardPort(
  conn: SshConnection,
  target: string,
  remotePort: number,
  onClose: () => void,
): Promise<Tunnel> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.pause();
    conn.forwardOut(target, remotePort).then(
      (channel) => {
        if (socket.destroyed) {
          channel.close();
          return;
        }
        channel.on("error", () => socket.destroy());
        channel.on("close", () => socket.destroy());
        socket.on("close", () => channel.close());
        socket.pipe(channel).pipe(socket);
        socket.resume();
      },
      () => socket.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  let closing: Promise<void> | null = null;
  const unregister = conn.register(() => void tunnel.close());
  const tunnel: Tunnel = {
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        unregister();
        onClose();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
  return tunnel;
}
