// `npm start` lands here (through scripts/start.mjs, which builds first when needed).
// `--role=all|api|signaling` chooses what this process serves (see app.ts); settings come from
// the environment (config.ts, README "Configuration").
import { ConfigError, loadConfig } from './config.ts';
import { startServer } from './app.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, process.cwd(), process.argv.slice(2));
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`Configuration error: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const server = await startServer(config);
  server.app.log.info(
    { url: server.url, role: config.role, store: config.database ? 'postgres' : 'sqlite', bus: config.redis ? 'redis' : 'memory', dataDir: config.dataDir },
    'Parley is running',
  );
  // A line for people, outside the JSON log stream.
  const role = config.role === 'all' ? '' : ` (role: ${config.role})`;
  // Opened directly, that address answers 403: say where people come in.
  const offload = config.tlsOffload ? 'Open it through its TLS proxy (TLS_OFFLOAD=1), not at this address.\n' : '';
  process.stdout.write(`\nParley is running at ${server.url}${role}\n${offload}\n`);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    server.app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((e: unknown) => {
  console.error('Parley failed to start:', e instanceof Error ? e.message : e);
  process.exit(1);
});
