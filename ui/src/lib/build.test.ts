import { afterEach, describe, expect, it } from 'vitest';
import { offeredEnvironments, sandboxAvailable } from './build';

const page = globalThis as Record<string, unknown>;

describe('the build', () => {
  afterEach(() => {
    delete page.__MOA_NO_SANDBOX__;
  });

  it('offers the sandbox and a server unless the shell says it has no sandbox', () => {
    expect(sandboxAvailable()).toBe(true);
    expect(offeredEnvironments()).toEqual(['sandbox', 'server']);
  });

  it('offers only a server in a build without the sandbox', () => {
    page.__MOA_NO_SANDBOX__ = true;
    expect(sandboxAvailable()).toBe(false);
    expect(offeredEnvironments()).toEqual(['server']);
  });
});
