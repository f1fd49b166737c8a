// The one error a bad setting raises, so main.ts can print it and stop before the port opens.
export class ConfigError extends Error {
  override name = 'ConfigError';
}
