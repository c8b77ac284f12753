import { Redis } from 'ioredis';
import { buildServers } from './lib/build';
import { spawnNode, type NodeChild } from './lib/children';
import { createEnvironment, removeEnvironment } from './lib/environment';
import { HttpSession } from './lib/http-session';
import { PgCounter } from './lib/pg-counter';
import { productEnv } from './lib/product-env';
import { freeLoopbackPort } from '../test/support/free-port';

/**
 * `node --import tsx bench/roundtrips.ts`: what one request of each bench case (and one answered
 * mail of the pipeline) sends to PostgreSQL and Redis, counted on the wire (a proxy in front of
 * PostgreSQL, Redis MONITOR). Prints a markdown table and the statements; BENCHMARKS.md quotes it.
 */
async function main() {
  const compiled = buildServers();
  const env = await createEnvironment();
  const pg = new PgCounter({ host: '127.0.0.1', port: Number(new URL(env.databaseUrl).port || 5432) });
  const proxied = new URL(env.databaseUrl);
  proxied.port = String(await pg.listen());
  const penv = { ...productEnv({ ...env, databaseUrl: proxied.toString() }, await freeLoopbackPort()), LOG_LEVEL: 'warn' };
  const children: NodeChild[] = [];
  const redis: { top: string[]; scripted: number } = { top: [], scripted: 0 };
  const monitor = new Redis(env.redisUrl);
  try {
    const web = spawnNode({ name: 'roundtrips-web', entry: compiled('bench/product/web.ts'), env: penv });
    children.push(web);
    const { url } = await web.message<{ url: string }>('ready');
    (await monitor.monitor()).on('monitor', (_time: string, args: string[], source: string) => {
      if (!args.some((a) => String(a).includes(env.redisPrefix))) return; // other users of this Redis
      if (source === 'lua') redis.scripted += 1;
      else redis.top.push(String(args[0]).toLowerCase());
    });

    const api = await HttpSession.signIn(url, 'trips@example.com');
    const contact = await api.request<{ id: string }>('POST', '/api/contacts', { email: 'anna@example.org', name: 'Anna', description_ai: 'A supplier.', is_active: true });
    await HttpSession.signIn(url, 'trips-push@example.com');
    const { tokens } = await web.request<{ tokens: string[] }>('sign-push-tokens', { count: 1 });
    const push = JSON.stringify({
      message: { data: Buffer.from(JSON.stringify({ emailAddress: 'trips-push@example.com', historyId: 1 })).toString('base64'), messageId: '1', message_id: '1', publishTime: new Date().toISOString() },
      subscription: 'projects/sandbox-project/subscriptions/gmail-push',
    });
    let n = 0;
    const probes: Array<[string, () => Promise<unknown>]> = [
      ['GET /api/contacts/:id', () => api.request('GET', `/api/contacts/${contact.body.id}`)],
      ['GET /api/contacts', () => api.request('GET', '/api/contacts')],
      ['GET /livez', () => fetch(`${url}/livez`)],
      ['POST /webhooks/gmail', () => fetch(`${url}/webhooks/gmail`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[0]}` }, body: push })],
      ['POST /api/contacts', () => api.request('POST', '/api/contacts', { email: `new-${(n += 1)}@example.org`, name: 'New', description_ai: 'A customer.', is_active: true })],
    ];

    const rows: string[] = [];
    const details: string[] = [];
    const measure = async (name: string, act: () => Promise<unknown>, settleMs: number) => {
      await new Promise((r) => setTimeout(r, settleMs));
      const pgFrom = pg.statements.length;
      const topFrom = redis.top.length;
      const scriptedFrom = redis.scripted;
      await act();
      await new Promise((r) => setTimeout(r, settleMs));
      const statements = pg.statements.slice(pgFrom);
      const top = redis.top.slice(topFrom);
      const counts = new Map<string, number>();
      for (const c of top) counts.set(c, (counts.get(c) ?? 0) + 1);
      rows.push(`| ${name} | ${statements.length} | ${statements.filter((s) => /^(BEGIN|COMMIT)/i.test(s)).length / 2} | ${top.length} (${[...counts].map(([c, k]) => `${c} ×${k}`).join(', ')}) | ${redis.scripted - scriptedFrom} |`);
      details.push(`\n${name}:\n${statements.map((s) => `  ${s.replace(/\s+/g, ' ').slice(0, 140)}`).join('\n')}`);
    };
    for (const [name, probe] of probes) {
      await probe(); // warm: the first request of a route compiles and connects
      await measure(name, probe, 300);
    }

    // One answered mail through the worker: push, sync, reply, send, record.
    const worker = spawnNode({ name: 'roundtrips-worker', entry: compiled('src/main/worker.ts'), env: { ...penv, LOG_LEVEL: 'info' } });
    children.push(worker);
    await worker.logged(/"msg":"started"/);
    const deliver = async (subject: string) => {
      await fetch(`${url}/sandbox/gmail/mailboxes/trips@example.com/incoming`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: 'Anna <anna@example.org>', subject, text: 'When will it arrive?' }) });
      for (let i = 0; i < 200; i += 1) {
        const sent = (await (await fetch(`${url}/sandbox/gmail/mailboxes/trips@example.com/sent`)).json()) as { items: unknown[] };
        if (sent.items.length >= Number(subject.slice(1))) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('no reply was sent');
    };
    await deliver('#1');
    await measure('one answered mail (worker and web)', () => deliver('#2'), 2000);

    process.stdout.write('\n| per request | PostgreSQL statements | of which transactions | Redis commands sent (top level) | Redis commands run inside scripts |\n|---|---|---|---|---|\n');
    process.stdout.write(`${rows.join('\n')}\n${details.join('\n')}\n`);
  } finally {
    monitor.disconnect();
    for (const child of children.reverse()) await child.stop();
    pg.close();
    await removeEnvironment(env);
  }
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`roundtrips failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
