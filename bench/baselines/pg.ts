import type Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';

const COLUMNS = 'id, user_id, email, email_hash, name, description_ai, is_active, deleted_at, created_at, updated_at';

/**
 * B-get, B-list and B-insert: B-koa plus a pg pool (as large as the product's) on the product's
 * own contacts table, answering the rows as stored: no session, no validation, no decryption.
 */
export function pgBaselines(router: Router, opts: { databaseUrl: string; poolMax: number }): pg.Pool {
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolMax });

  // B-get: one contact-shaped row by primary key.
  router.get('/b/get/:id', async (ctx) => {
    const { rows } = await pool.query(`SELECT ${COLUMNS} FROM contacts WHERE id = $1`, [ctx.params.id]);
    if (!rows[0]) ctx.throw(404);
    ctx.body = rows[0];
  });

  // B-list: the first keyset page of 50 (one more row read to know whether a next page exists).
  router.get('/b/list/:userId', async (ctx) => {
    const { rows } = await pool.query(`SELECT ${COLUMNS} FROM contacts WHERE user_id = $1 AND deleted_at IS NULL ORDER BY id DESC LIMIT 51`, [ctx.params.userId]);
    const items = rows.slice(0, 50);
    ctx.body = { items, next_cursor: rows.length > 50 ? Buffer.from(JSON.stringify([items[49].id])).toString('base64url') : null };
  });

  // B-insert: the JSON body of a new contact, inserted as one row (the email stands in for its blind index).
  router.post('/b/insert/:userId', bodyParser({ enableTypes: ['json'] }), async (ctx) => {
    const body = ctx.request.body as { email: string; name: string; description_ai?: string; is_active?: boolean };
    const { rows } = await pool.query(
      `INSERT INTO contacts (id, user_id, email, email_hash, name, description_ai, is_active) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [uuidv7(), ctx.params.userId, body.email, body.email.toLowerCase(), body.name, body.description_ai ?? '', body.is_active ?? false],
    );
    ctx.status = 201;
    ctx.body = rows[0];
  });

  return pool;
}
