// Which screen is showing. Moa has no URLs to share, so this is plain state rather than a router.

import { getContext, setContext } from 'svelte';
import type { Api } from './ipc/api';

export type Route =
  | { screen: 'dashboard' }
  | { screen: 'account'; accountId: number }
  | { screen: 'transfer'; fromId: number | null }
  | { screen: 'transfers' }
  | { screen: 'settings' };

export class Navigation {
  route: Route = $state({ screen: 'dashboard' });

  go(route: Route): void {
    this.route = route;
  }
}

const CONTEXT_KEY = Symbol('moa.navigation');

export function provideNavigation(navigation: Navigation): Navigation {
  return setContext(CONTEXT_KEY, navigation);
}

export function useNavigation(): Navigation {
  const navigation = getContext<Navigation | undefined>(CONTEXT_KEY);
  if (navigation === undefined) throw new Error('useNavigation() called outside App.svelte');
  return navigation;
}

const API_KEY = Symbol('moa.api');

/** The shell's commands, provided once by App.svelte so a test can render a screen with a fake. */
export function provideApi(api: Api): Api {
  return setContext(API_KEY, api);
}

export function useApi(): Api {
  const api = getContext<Api | undefined>(API_KEY);
  if (api === undefined) throw new Error('useApi() called outside App.svelte');
  return api;
}

/** A clock for "3분 전 기준" that ticks every 30 seconds while a screen shows it. */
export class Clock {
  now: Date = $state(new Date());

  tick(): void {
    this.now = new Date();
  }
}
