/**
 * Re-export for the tests: the implementation is built with the package
 * (services/src/providers/fixture-kind.ts) so the conformance script can use it.
 * @private test support
 */
export { fixtureKind } from "../providers/fixture-kind.js";
