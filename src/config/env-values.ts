import { ConfigError } from './config-error.js';

/**
 * Reading one environment variable as a typed value: each reader returns the value or its
 * fallback, or throws the `ConfigError` that names the variable. The sections of the
 * configuration (graph-config.ts, photo-config.ts ...) are written with these alone.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** Reads the environment's value, treating an empty string as unset. */
export function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** A whole number from `min` to `max` (durations are whole milliseconds or seconds, read by it too). */
export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}`, value);
  }
  return Number(value);
}

export function decimal(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(name, `must be a number from ${min} to ${max}`, value);
  }
  return Number(value);
}

export function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  switch (value.toLowerCase()) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      throw new ConfigError(name, 'must be true or false', value);
  }
}

/** One of `choices`, whatever its case. */
export function oneOf<T extends string>(env: Env, name: string, fallback: T, choices: readonly T[]): T {
  const value = raw(env, name) ?? fallback;
  const choice = choices.find((candidate) => candidate === value.toLowerCase());
  if (!choice) throw new ConfigError(name, `must be one of ${choices.join(', ')}`, value);
  return choice;
}

/** Values split at `separator`, at least one. */
export function list(env: Env, name: string, fallback: string[], separator: RegExp): string[] {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const entries = value.split(separator).map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) throw new ConfigError(name, 'must name at least one value', value);
  return entries;
}

/** A setting without a default. Nothing checks its form, so no error ever repeats it (a secret's neither). */
export function required(env: Env, name: string, requiredBecause: string): string {
  const value = raw(env, name);
  if (value === undefined) throw new ConfigError(name, `must be set ${requiredBecause}`, '');
  return value;
}

/**
 * `value` as an absolute URL, or undefined when it is none or its scheme is not one of
 * `protocols` (such as `'https:'`; any scheme when not given). Each setting says what else it
 * needs of the URL, and its own error (a URL that may hold a password is never repeated).
 */
export function parseUrl(value: string, protocols?: readonly string[]): URL | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  return protocols === undefined || protocols.includes(url.protocol) ? url : undefined;
}
