import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { TEST_SECRETS } from '../support/config';
import { waitFor } from '../support/http-client';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
// Inside the repository so that the compiled files find node_modules; git-ignored.
const OUT = path.join(ROOT, '.build-test');
const ADMIN_URL = process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The production build (tsconfig.build.json) compiles, and the Procfile's commands run from it. */
describe('the build', function () {
  this.timeout(120000);
  const database = `ga_build_${process.pid}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = (() => {
    const u = new URL(ADMIN_URL);
    u.pathname = `/${database}`;
    return u.toString();
  })();
  const env = {
    ...process.env,
    ...TEST_SECRETS,
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    REDIS_PREFIX: `${process.env.TEST_REDIS_PREFIX ?? 'gatest'}_build`,
    LOG_PRETTY: 'false',
    LOG_LEVEL: 'info',
  };

  before(async () => {
    rmSync(OUT, { recursive: true, force: true });
    await run(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', OUT], { cwd: ROOT });
  });
  after(async () => {
    rmSync(OUT, { recursive: true, force: true });
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
  });

  it('compiles every entry point of the Procfile', () => {
    for (const entry of ['web', 'worker', 'migrate', 'subscription']) expect(existsSync(path.join(OUT, 'src', 'main', `${entry}.js`)), entry).to.equal(true);
    expect(existsSync(path.join(OUT, 'migrations'))).to.equal(true);
  });

  it('migrates from the build and from the source with one shared history', async () => {
    const fromBuild = await run(process.execPath, [path.join(OUT, 'src', 'main', 'migrate.js')], { env, cwd: ROOT });
    expect(fromBuild.stdout).to.contain('migrations applied');
    const fromSource = await run(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, 'src', 'main', 'migrate.ts')], { env, cwd: ROOT });
    expect(fromSource.stdout).to.contain('schema up to date');
    const pg = new Client({ connectionString: databaseUrl });
    await pg.connect();
    const { rows } = await pg.query('SELECT name FROM knex_migrations ORDER BY id');
    await pg.end();
    expect(rows.length).to.be.greaterThan(0);
    expect(rows.every((r: { name: string }) => !/\.(ts|js)$/.test(r.name))).to.equal(true);
    expect(new Set(rows.map((r: { name: string }) => r.name)).size).to.equal(rows.length);
  });

  it('sets a subscription from the build: node dist/src/main/subscription.js <email> on|off', async () => {
    const pg = new Client({ connectionString: databaseUrl });
    await pg.connect();
    try {
      await pg.query("INSERT INTO users (id, email, google_sub, name, is_subscription_active) VALUES (gen_random_uuid(), 'built@example.com', 'sub-built', 'Built', false)");
      const on = await run(process.execPath, [path.join(OUT, 'src', 'main', 'subscription.js'), 'built@example.com', 'on'], { env, cwd: ROOT });
      expect(on.stdout).to.contain('built@example.com: subscription on');
      const { rows } = await pg.query("SELECT is_subscription_active FROM users WHERE email = 'built@example.com'");
      expect(rows[0].is_subscription_active).to.equal(true);
    } finally {
      await pg.end();
    }
  });

  it('starts the web process from the build and stops it on SIGTERM', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, [path.join(OUT, 'src', 'main', 'web.js')], { env: { ...env, PORT: String(port) }, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const live = await waitFor('the built web process to answer /livez', async () => {
        const res = await fetch(`http://127.0.0.1:${port}/livez`).catch(() => undefined);
        return res?.status === 200 ? res : undefined;
      }, 20000);
      expect(live.status).to.equal(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, output).to.equal(0);
  });

  it('stops at start-up with a message naming a bad variable', async () => {
    const err = await run(process.execPath, [path.join(OUT, 'src', 'main', 'web.js')], { env: { ...env, DATABASE_POOL_MAX: 'lots' }, cwd: ROOT }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err).to.not.equal(null);
    expect(err!.code).to.equal(78);
    expect(err!.stderr).to.contain('DATABASE_POOL_MAX');
  });
});
