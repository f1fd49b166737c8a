// A login storm: `concurrency` clients POST /api/auth/login back to back with correct
// passwords, so every request costs a full bcrypt comparison at the configured cost. Runs until
// stopped; reports how many logins completed and with which statuses.
import https from 'node:https';

export interface Storm {
  stop(): Promise<{ logins: number; seconds: number; statuses: Record<string, number> }>;
}

export function startLoginStorm(origin: string, ca: Buffer, users: string[], password: string, concurrency: number): Storm {
  const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, ca });
  const url = new URL('/api/auth/login', origin);
  const statuses: Record<string, number> = {};
  let running = true;
  let logins = 0;
  let k = 0;
  const started = performance.now();
  const once = () =>
    new Promise<void>((resolve) => {
      const body = JSON.stringify({ username: users[k++ % users.length], password });
      const req = https.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => {
          statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
          if (res.statusCode === 200) logins++;
          resolve();
        });
      });
      req.on('error', () => {
        statuses.error = (statuses.error ?? 0) + 1;
        resolve();
      });
      req.end(body);
    });
  const workers = Array.from({ length: concurrency }, async () => {
    while (running) await once();
  });
  return {
    async stop() {
      running = false;
      // The logins in flight are counted, so is the time they take to finish.
      await Promise.all(workers);
      const seconds = (performance.now() - started) / 1000;
      agent.destroy();
      return { logins, seconds, statuses };
    },
  };
}
