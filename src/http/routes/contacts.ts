import Router from '@koa/router';
import { addRoute } from '../route-spec';
import { ROUTES } from '../route-table';
import type { CreateContactInput, ListContactsInput, UpdateContactInput } from '../../schemas/contacts';
import type { ContactsService } from '../../services/contacts';
import type { MessageHistoryService, MessagePageInput } from '../../services/message-history';

export function contactRoutes(deps: { contacts: ContactsService; history: MessageHistoryService }): Router {
  const router = new Router();
  const { contacts, history } = deps;

  addRoute(router, ROUTES.listContacts, async (ctx) => {
    ctx.body = await contacts.list(ctx.state.userId, ctx.state.input.query as unknown as ListContactsInput);
  });

  addRoute(router, ROUTES.createContact, async (ctx) => {
    ctx.status = 201;
    ctx.body = await contacts.create(ctx.state.userId, ctx.state.input.body as unknown as CreateContactInput, { requestId: ctx.state.requestId });
  });

  addRoute(router, ROUTES.getContact, async (ctx) => {
    ctx.body = await contacts.get(ctx.state.userId, ctx.state.input.params.id as string);
  });

  addRoute(router, ROUTES.updateContact, async (ctx) => {
    ctx.body = await contacts.update(ctx.state.userId, ctx.state.input.params.id as string, ctx.state.input.body as UpdateContactInput, {
      requestId: ctx.state.requestId,
    });
  });

  addRoute(router, ROUTES.deleteContact, async (ctx) => {
    await contacts.softDelete(ctx.state.userId, ctx.state.input.params.id as string, { requestId: ctx.state.requestId });
    ctx.status = 204;
  });

  addRoute(router, ROUTES.listContactMessages, async (ctx) => {
    ctx.body = await history.listForContact(ctx.state.userId, ctx.state.input.params.id as string, ctx.state.input.query as unknown as MessagePageInput);
  });

  return router;
}
