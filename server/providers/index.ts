import { echoProvider } from './echo.ts';
import { openAIProvider, type OpenAIProviderConfig } from './openai.ts';
import { ProviderError, type ModelProvider } from './provider.ts';

export interface ProvidersConfig {
  /** Absent when no OpenAI-compatible endpoint is configured (OPENAI_API_KEY unset). */
  openai?: OpenAIProviderConfig;
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

  constructor(config: ProvidersConfig) {
    if (config.openai) this.providers.set('openai', openAIProvider(config.openai));
  }

  /** Runs a model; a provider that is not configured or fails throws ProviderError. */
  async complete(model: string, prompt: string) {
    const parsed = parseModel(model);
    if (!parsed) throw new ProviderError(`unknown model "${model}"`);
    const provider = this.providers.get(parsed.provider);
    if (!provider) throw new ProviderError(`the ${parsed.provider} provider is not configured on this server (set OPENAI_API_KEY)`);
    return provider.complete({ model: parsed.model, prompt });
  }
}

export { ProviderError };
