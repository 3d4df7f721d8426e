// ESM view of the types (index.d.cts): the same names, and the client as the default export.
export * from './index.cjs';
export { Vocable as default } from './index.cjs';
