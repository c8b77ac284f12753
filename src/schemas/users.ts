import { uuid } from './common';

export const meResponse = {
  type: 'object',
  properties: {
    id: uuid,
    email: { type: 'string', format: 'email' },
    name: { type: 'string' },
    is_subscription_active: { type: 'boolean', description: 'Without an active subscription incoming mail is recorded but not answered.' },
    gmail: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['ok', 'needs_reconsent', 'not_connected'], description: '`needs_reconsent`: Google revoked the grant; sign in again.' },
        watch_expires_at: { type: ['string', 'null'], format: 'date-time' },
        watch_status: { type: 'string', enum: ['active', 'failing', 'expired', 'none'], description: '`failing`: the last watch or renewal failed (`watch_error` says why).' },
        watch_error: { type: ['string', 'null'] },
      },
      required: ['status', 'watch_expires_at', 'watch_status', 'watch_error'],
      additionalProperties: false,
    },
  },
  required: ['id', 'email', 'name', 'is_subscription_active', 'gmail'],
  additionalProperties: false,
} as const;

export const userEmailParams = {
  type: 'object',
  properties: { email: { type: 'string', format: 'email', maxLength: 254, description: 'The account’s Google email (any letter case).' } },
  required: ['email'],
  additionalProperties: false,
} as const;

export const subscriptionBody = {
  type: 'object',
  properties: { is_subscription_active: { type: 'boolean' } },
  required: ['is_subscription_active'],
  additionalProperties: false,
} as const;

export const subscriptionResponse = {
  type: 'object',
  properties: {
    id: uuid,
    email: { type: 'string', format: 'email' },
    is_subscription_active: { type: 'boolean' },
  },
  required: ['id', 'email', 'is_subscription_active'],
  additionalProperties: false,
} as const;
