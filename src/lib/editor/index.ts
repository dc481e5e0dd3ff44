// What the node editors (src/nodes/*/*.html) use from src/lib: one source of truth for the
// rules the runtime enforces. scripts/editor-bundle.js bundles this file and what it
// imports into each editor .html as `window.streamsafeEditor`; every import must be
// browser-safe (no node: modules, no packages), which the bundler checks.
export * as status from './status';
export * as producer from './producer';
export * as broker from './broker';
export * as x from './x';
export * as partitionKey from './partition-key';
export * as consumer from './consumer';
