import type { Socket, TCPSocketListener } from "bun";

/*
 * A loopback TCP proxy in front of a real service, so a test can make the service unreachable
 * (stop: the port is closed and open connections are cut) and bring it back on the same port.
 */
export async function startTcpProxy(targetHost: string, targetPort: number) {
  let listener: TCPSocketListener<{ upstream?: Socket<unknown>; pending: Uint8Array[] }> | null = null;
  const sockets = new Set<Socket<any>>();
  let port = 0;

  const listen = () => {
    listener = Bun.listen<{ upstream?: Socket<unknown>; pending: Uint8Array[] }>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(client) {
          client.data = { pending: [] };
          sockets.add(client);
          void Bun.connect({
            hostname: targetHost,
            port: targetPort,
            socket: {
              open(up) {
                client.data.upstream = up;
                sockets.add(up);
                for (const chunk of client.data.pending) up.write(chunk);
                client.data.pending = [];
              },
              data(_up, chunk) {
                client.write(chunk);
              },
              close() {
                client.end();
              },
              error() {
                client.end();
              },
            },
          }).catch(() => client.end());
        },
        data(client, chunk) {
          if (client.data.upstream) client.data.upstream.write(chunk);
          else client.data.pending.push(new Uint8Array(chunk));
        },
        close(client) {
          client.data.upstream?.end();
          sockets.delete(client);
        },
        error(client) {
          client.data.upstream?.end();
        },
      },
    });
    port = listener.port;
  };
  listen();

  return {
    get port() {
      return port;
    },
    stop() {
      listener?.stop(true);
      listener = null;
      for (const s of sockets) s.end();
      sockets.clear();
    },
    restart() {
      if (!listener) listen();
    },
  };
}
