import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Koa from 'koa';
import { createLogger } from '../../src/observability/logger';
import { errorHandler } from '../../src/http/middleware/errors';

/** The error handler alone, in front of a handler that fails as a database driver does. */
describe('error handler', () => {
  const lines: string[] = [];
  let server: http.Server;
  let base: string;
  let failure: Error;

  before(async () => {
    const destination = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const logger = createLogger({ level: 'info', pretty: false, destination });
    const app = new Koa();
    app.use(async (ctx, next) => {
      ctx.state.log = logger;
      await next();
    });
    app.use(errorHandler());
    app.use(() => {
      throw failure;
    });
    server = http.createServer(app.callback()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  it('answers 500 without detail and logs a database error without the value PostgreSQL quoted', async () => {
    failure = Object.assign(new Error('select * from "contacts" where "id" = $1 - invalid input syntax for type uuid: "anna@example.org"'), { code: '22P02' });
    const res = await fetch(`${base}/x`);
    expect(res.status).to.equal(500);
    expect(await res.json()).to.deep.equal({ error: { code: 'internal_error', message: 'internal error', details: [] } });
    const logged = lines.join('');
    expect(logged).to.contain('22P02').and.contain('invalid input syntax for type uuid');
    expect(logged).to.not.contain('anna@example.org');
  });

  it('keeps the whole message of an error that does not come from the database', async () => {
    lines.length = 0;
    failure = new Error('a bug: "kept as is"');
    expect((await fetch(`${base}/x`)).status).to.equal(500);
    expect(lines.join('')).to.contain('kept as is');
  });
});
