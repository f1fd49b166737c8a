// A TCP proxy standing in for a load balancer in front of several Parley processes: one origin
// for a browser that outlives any one process. Each new connection goes to the first backend,
// in the order given, that accepts it; its bytes pass through untouched (TLS passthrough, so
// the browser speaks TLS to the process itself). It knows nothing of HTTP or WebSocket: when a
// backend dies its connections drop, and the browser's next ones land on the next backend.
import net from 'node:net';

export interface FailoverProxy {
  /** The origin a page should open: https://127.0.0.1:<proxy port>. */
  url: string;
  /** How many connections each backend port has been handed so far. */
  handedTo(port: number): number;
  close(): Promise<void>;
}

export async function startFailoverProxy(backendPorts: number[]): Promise<FailoverProxy> {
  const sockets = new Set<net.Socket>();
  const handed = new Map<number, number>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };

  const server = net.createServer((client) => {
    track(client);
    client.pause(); // nothing is read until a backend has taken the connection
    let upstream: net.Socket | undefined;
    client.on('error', () => upstream?.destroy());
    client.on('close', () => upstream?.destroy());

    const tryBackend = (i: number) => {
      const port = backendPorts[i];
      if (port === undefined || client.destroyed) return client.destroy();
      const socket = net.connect(port, '127.0.0.1');
      upstream = socket;
      track(socket);
      let connected = false;
      socket.on('error', () => {
        // Refused (the process is gone): try the next one. Once connected, an error ends both.
        if (!connected) return tryBackend(i + 1);
        client.destroy();
      });
      socket.on('connect', () => {
        connected = true;
        handed.set(port, (handed.get(port) ?? 0) + 1);
        socket.on('close', () => client.end()); // after what it sent has been written
        client.pipe(socket);
        socket.pipe(client);
        client.resume();
      });
    };
    tryBackend(0);
  });

  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    handedTo: (p) => handed.get(p) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
