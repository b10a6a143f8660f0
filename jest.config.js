// Jest's CommonJS runtime cannot require(esm) on Node 20, so the ESM-only
// dependencies that tests import are transpiled by swc like our own code.
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
};

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', swc] },
  transformIgnorePatterns: ['/node_modules/(?!(p-limit|yocto-queue|jose|trading-signals)/)'],
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  // PostgreSQL on 127.0.0.1:5432 when it answers, an embedded one otherwise (test/support/global-setup.ts).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 30000,
};
