/** What a model provider is asked, and what it answers. */
export interface Completion {
  text: string;
  promptTokens: number;
  completionTokens: number;
}

export interface CompletionRequest {
  model: string;
  prompt: string;
  /** The most tokens the model may answer with (`max_tokens`). */
  maxTokens: number;
}

export interface ModelProvider {
  /** The provider's name, the part of a model name before the colon ("openai" in "openai:gpt-4o-mini"). */
  readonly name: string;
  /**
   * True when it answers in this process, at once, with no network call: a run of it is recorded
   * finished in one transaction (nothing can crash between its start and its end worth recording).
   */
  readonly inProcess?: boolean;
  complete(request: CompletionRequest): Promise<Completion>;
}

/** A provider's failure, with a message fit to show the caller (no key, no URL with credentials). */
export class ProviderError extends Error {}
