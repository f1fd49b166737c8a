// `npm start` lands here (through scripts/start.mjs, which builds first when needed).
import { ConfigError, loadConfig } from './config.ts';
import { startServer } from './app.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`Configuration error: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const server = await startServer(config);
  server.app.log.info({ url: server.url, dataDir: config.dataDir }, 'Parley is running');
  // A line for people, outside the JSON log stream.
  process.stdout.write(`\nParley is running at ${server.url}\n\n`);

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
