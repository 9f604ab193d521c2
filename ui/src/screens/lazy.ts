// The screens besides the dashboard, each loaded the first time it opens: the first paint then
// parses and runs only the dashboard's code. Once that paint is out, `preloadScreens` fetches the
// others, so a click finds its screen already there.

export const screens = {
  account: () => import('./account/Account.svelte'),
  transfer: () => import('./transfer/Transfer.svelte'),
  transfers: () => import('./transfers/Transfers.svelte'),
  settings: () => import('./settings/Settings.svelte'),
} as const;

/** Loads every screen's code ahead of its first use; a failure shows when the screen opens. */
export function preloadScreens(): void {
  for (const load of Object.values(screens)) load().catch(() => undefined);
}
