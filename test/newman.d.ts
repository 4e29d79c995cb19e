/** The part of newman's Node API the Postman collection test uses (newman ships no types). */
declare module 'newman' {
  export interface NewmanRunSummary {
    run: {
      stats: { requests: { total: number; failed: number }; assertions: { total: number; failed: number } };
      failures: { error: { name: string; message: string; test?: string }; source?: { name?: string } }[];
      executions: { item: { name: string }; response?: { code: number } }[];
    };
  }
  export interface NewmanRunOptions {
    collection: unknown;
    environment?: unknown;
    folder?: string | string[];
    reporters?: string | string[];
    timeoutRequest?: number;
  }
  export function run(options: NewmanRunOptions, callback: (error: Error | null, summary: NewmanRunSummary) => void): void;
  const newman: { run: typeof run };
  export default newman;
}
