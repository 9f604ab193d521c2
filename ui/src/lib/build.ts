// What this build of the app holds. The shell says, before any script of the page runs, when it
// was built without the sandbox (`src-tauri/src/startup.rs`); then only an institution's server
// can be chosen.

import type { EnvironmentKind } from './ipc/bindings';

const NO_SANDBOX = '__MOA_NO_SANDBOX__';

/** Whether this build has the sandbox environment. */
export function sandboxAvailable(): boolean {
  return (globalThis as Record<string, unknown>)[NO_SANDBOX] !== true;
}

/** The environments this build offers, in the order Settings shows them. */
export function offeredEnvironments(): readonly EnvironmentKind[] {
  return sandboxAvailable() ? ['sandbox', 'server'] : ['server'];
}
