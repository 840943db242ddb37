import type { Store } from './store.ts';

/** The members of Store that are repositories (objects of async methods). */
type RepositoryName = Exclude<{ [K in keyof Store]: Store[K] extends (...args: never[]) => unknown ? never : K }[keyof Store], 'kind'>;

/** Every repository of the Store port; a repository added to the port must be listed here (the type says so). */
const REPOSITORIES: Record<RepositoryName, true> = {
  messages: true,
  snapshots: true,
  rules: true,
  readings: true,
  alerts: true,
  notifications: true,
  plugins: true,
  analytics: true,
  notificationLog: true,
  silences: true,
};

/**
 * A repository whose calls wait for the store to load first. Every repository method of the
 * Store port returns a promise, so forwarding any method by name keeps the contract.
 */
function lazyRepository<R extends object>(repository: () => Promise<R>): R {
  return new Proxy({} as R, {
    get(_, method) {
      if (typeof method !== 'string' || method === 'then') return undefined;
      return (...args: unknown[]) =>
        repository().then((loaded) => (loaded[method as keyof R] as (...a: unknown[]) => Promise<unknown>)(...args));
    },
  });
}

/**
 * A Store that imports its adapter on first use (an adapter's driver costs start-up time and
 * memory even when unused). `kind` is known at once; closing one never used loads nothing.
 */
export function lazyStore(kind: string, load: () => Promise<Store>): Store {
  let loading: Promise<Store> | undefined;
  let closed = false;
  const store = () =>
    (loading ??= load().then(async (loaded) => {
      if (closed) await loaded.close();
      return loaded;
    }));
  const repositories = Object.fromEntries(
    Object.keys(REPOSITORIES).map((name) => [name, lazyRepository(() => store().then((loaded) => loaded[name as RepositoryName]))]),
  ) as Pick<Store, RepositoryName>;
  return {
    kind,
    ...repositories,
    migrate: () => store().then((loaded) => loaded.migrate()),
    missingTables: () => store().then((loaded) => loaded.missingTables()),
    health: () => store().then((loaded) => loaded.health()),
    now: () => store().then((loaded) => loaded.now()),
    async close() {
      closed = true;
      if (loading) await (await loading).close();
    },
  };
}
