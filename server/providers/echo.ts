import type { Completion, ModelProvider } from './provider.ts';

/** The default model: returns the rendered template as it is, needs nothing, costs no tokens. */
export const echoProvider: ModelProvider = {
  name: 'echo',
  inProcess: true,
  async complete({ prompt }): Promise<Completion> {
    return { text: prompt, promptTokens: 0, completionTokens: 0 };
  },
};
