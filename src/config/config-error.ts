/** A configuration value that cannot be used. Its message is the one line start-up prints. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
    value: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem} (got ${JSON.stringify(value)}).`);
    this.name = 'ConfigError';
  }
}
