import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import semver from 'semver';

interface LockedPackage {
  version?: string;
  engines?: { node?: string } | string[];
}

const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<string, LockedPackage>;
};

/** Every locked package whose `engines.node` refuses the given Node version. */
function refusing(nodeVersion: string): string[] {
  return Object.entries(lock.packages).flatMap(([path, pkg]) => {
    const range = !pkg.engines || Array.isArray(pkg.engines) ? undefined : pkg.engines.node;
    return range && path !== '' && !semver.satisfies(nodeVersion, range) ? [`${path}@${pkg.version} needs node ${range}`] : [];
  });
}

// The machines run Node 20 (CI also runs the suite on 22): a dependency update that drags in a
// package made for newer Node only fails here, not later on a machine.
describe('the locked dependency tree', () => {
  it('accepts Node 20 in every package', () => {
    expect(refusing('20.19.0')).toEqual([]);
  });
});
