import OpenAI from 'openai';
import type { ChatMessage } from './prompt';

export interface LlmSettings {
  baseUrl: string;
  apiKey: string;
  model: string;
  timeoutMs: number;
  /** The openai client retries 408, 409, 429, 5xx and timeouts itself, with backoff and Retry-After. */
  maxRetries: number;
}

export interface LlmClient {
  complete(messages: ChatMessage[]): Promise<string>;
}

export class EmptyCompletionError extends Error {}

/** A failure of the LLM endpoint (after the client's own retries), or an empty answer. */
export function isLlmError(err: unknown): boolean {
  return err instanceof OpenAI.APIError || err instanceof EmptyCompletionError;
}

/** Any OpenAI-compatible chat-completions endpoint, through the openai client. */
export function createLlmClient(settings: LlmSettings): LlmClient {
  const client = new OpenAI({ baseURL: settings.baseUrl, apiKey: settings.apiKey, timeout: settings.timeoutMs, maxRetries: settings.maxRetries });
  return {
    async complete(messages) {
      const completion = await client.chat.completions.create({ model: settings.model, messages });
      const content = completion.choices[0]?.message?.content?.trim();
      if (!content) throw new EmptyCompletionError('the model returned no text');
      return content;
    },
  };
}
