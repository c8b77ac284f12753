import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';

/**
 * Migrations live in migrations/ as .ts (run from source with tsx) and as .js in dist/migrations
 * (run from the build). Both record the name without its extension, so they share one history.
 */
const runningFromSource = __filename.endsWith('.ts');
const extension = runningFromSource ? '.ts' : '.js';
// src/db → project root (source) or dist/src/db → dist (build)
const directory = path.resolve(__dirname, '..', '..', 'migrations');

interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    return readdirSync(directory)
      .filter((file) => file.endsWith(extension) && !file.endsWith('.d.ts'))
      .map((file) => file.slice(0, -extension.length))
      .sort();
  },
  getMigrationName(name) {
    return name;
  },
  async getMigration(name) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(directory, name + extension)) as MigrationModule;
  },
};
