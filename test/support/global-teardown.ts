/** Stops the embedded PostgreSQL that global-setup started, if it did. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__embeddedTestPostgres?.destroy();
  globalThis.__embeddedTestPostgres = undefined;
}
