import { expect } from 'chai';
import { createHash } from 'node:crypto';
import OpenAI from 'openai';
import { startTestSystem, type TestSystem } from '../support/system';

/** The sandbox's OpenAI-compatible chat-completions endpoint through the official openai client. */
describe('sandbox LLM (openai client)', () => {
  let system: TestSystem;
  let client: OpenAI;

  before(async () => {
    system = await startTestSystem({ worker: false });
    client = new OpenAI({ baseURL: `${system.baseUrl}/sandbox/openai/v1`, apiKey: system.container.config.llm.apiKey, maxRetries: 0 });
  });
  after(async () => {
    await system.close();
  });

  const sha8 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

  it('answers deterministically, naming the model and digests of the last system and last user message', async () => {
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are a general assistant.' },
      { role: 'user', content: 'An earlier question' },
      { role: 'assistant', content: 'An earlier answer' },
      { role: 'system', content: 'Reply politely in French.' },
      { role: 'user', content: 'Can we meet on Thursday at noon?' },
    ];
    const first = await client.chat.completions.create({ model: 'gpt-sandbox-1', messages });
    const second = await client.chat.completions.create({ model: 'gpt-sandbox-1', messages });
    const content = first.choices[0]!.message.content!;
    expect(second.choices[0]!.message.content).to.equal(content);
    expect(first.id).to.not.equal(second.id);

    expect(first.object).to.equal('chat.completion');
    expect(first.model).to.equal('gpt-sandbox-1');
    expect(first.choices[0]!.finish_reason).to.equal('stop');
    expect(first.choices[0]!.message.role).to.equal('assistant');
    expect(content).to.contain('gpt-sandbox-1');
    expect(content).to.contain(`"Reply politely in French." [sha256:${sha8('Reply politely in French.')}]`);
    expect(content).to.contain(`"Can we meet on Thursday at noon?" [sha256:${sha8('Can we meet on Thursday at noon?')}]`);
    expect(content).to.not.contain('general assistant');
    expect(content).to.not.contain('An earlier question');
    expect(first.usage!.total_tokens).to.equal(first.usage!.prompt_tokens + first.usage!.completion_tokens);
  });

  it('answers differently when the instruction or the message changes', async () => {
    const ask = async (system: string, user: string) =>
      (await client.chat.completions.create({ model: 'm', messages: [{ role: 'system', content: system }, { role: 'user', content: user }] })).choices[0]!.message.content;
    const base = await ask('Be brief.', 'Hello');
    expect(await ask('Be brief!', 'Hello')).to.not.equal(base);
    expect(await ask('Be brief.', 'Hello?')).to.not.equal(base);
  });

  it('never echoes a long input whole: the digest is cut and hashed', async () => {
    const long = `${'word '.repeat(100)}SECRET-TAIL`;
    const res = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: long }] });
    const content = res.choices[0]!.message.content!;
    expect(content).to.not.contain('SECRET-TAIL');
    expect(content).to.contain(`[sha256:${sha8(long)}]`);
  });

  it('streams the same answer with stream: true', async () => {
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'system', content: 'S' }, { role: 'user', content: 'U' }];
    const whole = (await client.chat.completions.create({ model: 'm', messages })).choices[0]!.message.content;
    const stream = await client.chat.completions.create({ model: 'm', messages, stream: true });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).to.equal(whole);
    expect(finish).to.equal('stop');
  });

  it('refuses a wrong API key with 401 (AuthenticationError)', async () => {
    const wrong = new OpenAI({ baseURL: `${system.baseUrl}/sandbox/openai/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
    let error: unknown;
    try {
      await wrong.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).status).to.equal(401);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).code).to.equal('invalid_api_key');
  });

  it('refuses an empty messages array with 400 (BadRequestError)', async () => {
    let error: unknown;
    try {
      await client.chat.completions.create({ model: 'm', messages: [] });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).status).to.equal(400);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).to.equal('messages');
  });

  it('refuses a request without a model with 400', async () => {
    let error: unknown;
    try {
      await client.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'x' }] });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(OpenAI.BadRequestError);
  });
});
