import { Model } from 'objection';

/**
 * Objection models hold rows exactly as stored: encrypted columns carry ciphertext. Services turn
 * them into plain records with the helpers in src/db/encrypted-columns.ts.
 */
export class User extends Model {
  static override tableName = 'users';
  id!: string;
  email!: string;
  google_sub!: string;
  name!: string;
  is_subscription_active!: boolean;
  created_at!: Date;
  updated_at!: Date;
}

export type GmailConnectionStatus = 'ok' | 'needs_reconsent';

export class GmailConnection extends Model {
  static override tableName = 'gmail_connections';
  static override idColumn = 'user_id';
  user_id!: string;
  refresh_token!: string | null;
  access_token!: string | null;
  access_token_expires_at!: Date | null;
  scopes!: string[];
  history_id!: string | null;
  watch_expires_at!: Date | null;
  watch_error!: string | null;
  last_synced_at!: Date | null;
  status!: GmailConnectionStatus;
  created_at!: Date;
  updated_at!: Date;
}

export class Contact extends Model {
  static override tableName = 'contacts';
  id!: string;
  user_id!: string;
  email!: string;
  email_hash!: string;
  name!: string;
  description_ai!: string;
  is_active!: boolean;
  deleted_at!: Date | null;
  created_at!: Date;
  updated_at!: Date;
}

export type MessageDirection = 'sent' | 'received';

export class MessageHistory extends Model {
  static override tableName = 'message_history';
  id!: string;
  user_id!: string;
  contact_id!: string;
  message_direction!: MessageDirection;
  message_text!: string;
  subject!: string;
  timestamp!: Date;
  gmail_message_id!: string;
  gmail_thread_id!: string;
  rfc822_message_id!: string | null;
  rfc822_references!: string[];
  created_at!: Date;
}

export class ActiveConversation extends Model {
  static override tableName = 'active_conversations';
  id!: string;
  user_id!: string;
  contact_id!: string;
  last_interaction_at!: Date;
  last_message_id!: string | null;
  paused_until!: Date | null;
}

export type ReplyStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'cancelled';

export class Reply extends Model {
  static override tableName = 'replies';
  id!: string;
  user_id!: string;
  contact_id!: string;
  source_message_id!: string;
  status!: ReplyStatus;
  failure_reason!: string | null;
  sent_message_id!: string | null;
  gmail_message_id!: string | null;
  gmail_thread_id!: string | null;
  lease_until!: Date | null;
  sent_at!: Date | null;
  attempts!: number;
  created_at!: Date;
  updated_at!: Date;
}

export class AuditEntry extends Model {
  static override tableName = 'audit_log';
  id!: string;
  occurred_at!: Date;
  actor_type!: 'user' | 'admin' | 'system';
  actor_user_id!: string | null;
  subject_user_id!: string | null;
  action!: string;
  entity_type!: string | null;
  entity_id!: string | null;
  request_id!: string | null;
  job_id!: string | null;
  metadata!: Record<string, unknown>;
}
