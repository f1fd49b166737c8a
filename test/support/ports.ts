// A port nobody listens on, from the kernel (bind to 0, read it, close): for servers whose
// configuration cannot take port 0. A random pick can land on a port in use and hang a test.
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
