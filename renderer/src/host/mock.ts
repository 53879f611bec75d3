// An in-memory Host for the views' tests (Netron's test/mock.js): each method answers from
// what the test gives; a method the test did not give rejects, naming itself. Records every
// call, and emits events on request, so a test can drive a view without any process behind it.
import { API_METHODS, type AppInfo, type Host, type StrataApi, type StrataEvents } from '../../../app/contract/api.ts';

export interface MockHost extends Host {
  /** Every call, in order: method and parameters. */
  readonly calls: { method: keyof StrataApi; params: unknown[] }[];
  emit<E extends keyof StrataEvents>(event: E, payload: StrataEvents[E]): void;
}

export const MOCK_APP_INFO: AppInfo = {
  mode: 'browser',
  versions: { strata: '0.0.0-mock', node: '20', electron: null, chrome: null, onnxruntime: '0.0.0', engineBackends: ['cpu'], cudaUnavailable: null },
  root: '/mock',
};

/** Answers when a test gives no answer of its own: an empty start page. */
const DEFAULTS: Partial<StrataApi> = {
  appInfo: async () => MOCK_APP_INFO,
  examples: async () => [],
  recentFiles: async () => [],
  listFolder: async (path) => ({ path: path ?? '', parent: null, entries: [] }),
  closeDocument: async () => undefined,
};

export function createMockHost(answers: Partial<StrataApi> = {}): MockHost {
  const calls: MockHost['calls'] = [];
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const implementation = { ...DEFAULTS, ...answers } as Record<string, ((...params: unknown[]) => Promise<unknown>) | undefined>;
  const api = Object.fromEntries(
    API_METHODS.map((method) => [
      method,
      async (...params: unknown[]) => {
        calls.push({ method, params });
        const answer = implementation[method];
        if (!answer) throw new Error(`the mock host was given no answer for ${method}()`);
        return answer(...params);
      },
    ]),
  ) as unknown as StrataApi;
  return {
    ...api,
    calls,
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener as (payload: unknown) => void);
      return () => set.delete(listener as (payload: unknown) => void);
    },
    emit(event, payload) {
      listeners.get(event)?.forEach((listener) => listener(payload));
    },
  };
}
