export default async function globalTeardown() {
  await globalThis.memoryTestPostgres?.stop();
}
