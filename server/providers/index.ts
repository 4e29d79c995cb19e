import { echoProvider } from './echo.ts';
import { openAIProvider, type OpenAIProviderConfig } from './openai.ts';
import { ProviderError, type Completion, type ModelProvider } from './provider.ts';
import { providerErrorText, redactSecrets, storableText } from './provider-text.ts';

export interface ProvidersConfig {
  /** Absent when no OpenAI-compatible endpoint is configured (OPENAI_API_KEY unset). */
  openai?: OpenAIProviderConfig;
  /** The largest answer a run keeps (RUN_MAX_RESULT_BYTES): bounds what is read from a provider. */
  maxResultBytes: number;
}

/**
 * The most bytes read of a provider's answer: an answer of maxResultBytes can take six times as
 * many once JSON-escaped (\u0001 for one byte), plus the envelope around it.
 */
export function maxResponseBytes(maxResultBytes: number): number {
  return maxResultBytes * 6 + 64 * 1024;
}

export const KNOWN_PROVIDERS = ['echo', 'openai'] as const;

/**
 * The model a prompt names and who serves it: `echo`, or `<provider>:<model>` such as
 * `openai:gpt-4o-mini`. Undefined for a provider PromptGate does not know.
 */
export function parseModel(model: string): { provider: string; model: string } | undefined {
  if (model === 'echo') return { provider: 'echo', model: 'echo' };
  const colon = model.indexOf(':');
  if (colon <= 0 || colon === model.length - 1) return undefined;
  const provider = model.slice(0, colon);
  return (KNOWN_PROVIDERS as readonly string[]).includes(provider) ? { provider, model: model.slice(colon + 1) } : undefined;
}

/** The configured providers of this server. */
export class ModelProviders {
  private readonly providers = new Map<string, ModelProvider>([['echo', echoProvider]]);

  /** Credentials of the configured providers: never stored or answered, whatever a provider echoes. */
  private readonly secrets: string[] = [];

  constructor(config: ProvidersConfig) {
    if (config.openai) {
      this.providers.set('openai', openAIProvider(config.openai, maxResponseBytes(config.maxResultBytes)));
      this.secrets.push(config.openai.apiKey);
    }
  }

  /** Whether the model's provider answers in this process (see ModelProvider.inProcess). */
  answersInProcess(model: string): boolean {
    const parsed = parseModel(model);
    return !!parsed && !!this.providers.get(parsed.provider)?.inProcess;
  }

  /**
   * Runs a model; a provider that is not configured or fails throws ProviderError. The answer and
   * any error text come back storable and with no configured credential in them.
   */
  async complete(model: string, prompt: string, options: { maxTokens: number }): Promise<Completion> {
    const parsed = parseModel(model);
    if (!parsed) throw new ProviderError(`unknown model "${model}"`);
    const provider = this.providers.get(parsed.provider);
    if (!provider) throw new ProviderError(`the ${parsed.provider} provider is not configured on this server (set OPENAI_API_KEY)`);
    let completion: Completion;
    try {
      completion = await provider.complete({ model: parsed.model, prompt, maxTokens: options.maxTokens });
    } catch (error) {
      if (error instanceof ProviderError) throw new ProviderError(providerErrorText(error.message, this.secrets));
      throw error;
    }
    return { ...completion, text: redactSecrets(storableText(completion.text), this.secrets) };
  }
}

export { ProviderError };
