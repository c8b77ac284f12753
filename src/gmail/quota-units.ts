/**
 * Gmail quota units per method, Google's published costs
 * (https://developers.google.com/gmail/api/reference/quota). Gmail allows 15,000 units per user per
 * minute; the product counts what it spends per method (metrics) and the sandbox enforces the limit.
 */
export const GMAIL_QUOTA_UNITS = {
  getProfile: 1,
  watch: 100,
  stop: 50,
  'history.list': 2,
  'messages.list': 5,
  'messages.get': 5,
  'messages.send': 100,
  'messages.modify': 5,
  'messages.attachments.get': 5,
  'threads.get': 10,
  'labels.list': 1,
} as const;

export type GmailMethod = keyof typeof GMAIL_QUOTA_UNITS;
