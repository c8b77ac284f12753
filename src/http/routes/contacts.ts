import Router from '@koa/router';
import { validate } from '../middleware/validate';
import { idParams, pageQuery } from '../../schemas/common';
import { createContactBody, listContactsQuery, updateContactBody, type CreateContactInput, type ListContactsInput, type UpdateContactInput } from '../../schemas/contacts';
import type { ContactsService } from '../../services/contacts';
import type { MessageHistoryService, MessagePageInput } from '../../services/message-history';

export function contactRoutes(deps: { contacts: ContactsService; history: MessageHistoryService }): Router {
  const router = new Router();
  const { contacts, history } = deps;

  router.get('/api/contacts', validate({ query: listContactsQuery }), async (ctx) => {
    ctx.body = await contacts.list(ctx.state.userId, ctx.state.input.query as unknown as ListContactsInput);
  });

  router.post('/api/contacts', validate({ body: createContactBody }), async (ctx) => {
    ctx.status = 201;
    ctx.body = await contacts.create(ctx.state.userId, ctx.state.input.body as unknown as CreateContactInput, { requestId: ctx.state.requestId });
  });

  router.get('/api/contacts/:id', validate({ params: idParams }), async (ctx) => {
    ctx.body = await contacts.get(ctx.state.userId, ctx.state.input.params.id as string);
  });

  router.patch('/api/contacts/:id', validate({ params: idParams, body: updateContactBody }), async (ctx) => {
    ctx.body = await contacts.update(ctx.state.userId, ctx.state.input.params.id as string, ctx.state.input.body as UpdateContactInput, {
      requestId: ctx.state.requestId,
    });
  });

  router.delete('/api/contacts/:id', validate({ params: idParams }), async (ctx) => {
    await contacts.softDelete(ctx.state.userId, ctx.state.input.params.id as string, { requestId: ctx.state.requestId });
    ctx.status = 204;
  });

  router.get('/api/contacts/:id/messages', validate({ params: idParams, query: pageQuery }), async (ctx) => {
    ctx.body = await history.listForContact(ctx.state.userId, ctx.state.input.params.id as string, ctx.state.input.query as unknown as MessagePageInput);
  });

  return router;
}
