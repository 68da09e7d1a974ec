export interface PostgresServer {
  /** Superuser URL of the `postgres` database. */
  url: string;
  port: number;
  root: string;
  pause(): Promise<void>;
  stop(): Promise<void>;
}
export const TEST_PG_PASSWORD: string;
export function startPostgresServer(options?: { port?: number; root?: string }): Promise<PostgresServer>;
export function freePort(): Promise<number>;
