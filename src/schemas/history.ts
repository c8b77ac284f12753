import { dateTime, pageOf, uuid } from './common';
import { contactResponse } from './contacts';

export const messageResponse = {
  type: 'object',
  properties: {
    id: uuid,
    contact_id: uuid,
    message_direction: { type: 'string', enum: ['sent', 'received'], description: '`received`: the contact wrote; `sent`: the user (or the assistant) answered.' },
    subject: { type: 'string' },
    message_text: { type: 'string' },
    timestamp: { ...dateTime, description: 'When Gmail says the mail was sent or received.' },
    gmail_thread_id: { type: 'string' },
  },
  required: ['id', 'contact_id', 'message_direction', 'subject', 'message_text', 'timestamp', 'gmail_thread_id'],
  additionalProperties: false,
} as const;

export const messagePage = pageOf(messageResponse);

export const conversationResponse = {
  type: 'object',
  properties: {
    id: uuid,
    contact: contactResponse,
    last_interaction_at: { ...dateTime, description: 'Time of the newest message in either direction.' },
    last_message: { anyOf: [messageResponse, { type: 'null' }] },
  },
  required: ['id', 'contact', 'last_interaction_at', 'last_message'],
  additionalProperties: false,
} as const;

export const conversationPage = pageOf(conversationResponse);
