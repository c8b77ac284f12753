import OpenAI from 'openai';
import type { ChatMessage } from './prompt';

export interface LlmSettings {
  baseUrl: string;
  apiKey: string;
  model: string;
  timeoutMs: number;
}

export interface LlmClient {
  complete(messages: ChatMessage[]): Promise<string>;
}

export class EmptyCompletionError extends Error {}

/** Any OpenAI-compatible chat-completions endpoint, through the openai client. */
export function createLlmClient(settings: LlmSettings): LlmClient {
  const client = new OpenAI({ baseURL: settings.baseUrl, apiKey: settings.apiKey, timeout: settings.timeoutMs, maxRetries: 2 });
  return {
    async complete(messages) {
      const completion = await client.chat.completions.create({ model: settings.model, messages });
      const content = completion.choices[0]?.message?.content?.trim();
      if (!content) throw new EmptyCompletionError('the model returned no text');
      return content;
    },
  };
}
