/**
 * What a benchmark server reports to bench/compare.ts over the IPC channel of its child process
 * (so nothing is exposed on the HTTP port): the event-loop delay since the last reset
 * (perf_hooks.monitorEventLoopDelay), its resident set size, and, when asked, a CPU profile of a
 * window of the load (the V8 sampling profiler that `node --cpu-prof` uses, started and stopped
 * through node:inspector so that start-up and warm-up stay out of it).
 *
 * Enabled only when the process was started with an IPC channel (process.send exists), i.e. by
 * the bench; a server started any other way never listens for these messages.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export type StatsRequest =
  | { type: 'reset' }
  | { type: 'stats' }
  /** A full garbage collection, then the stats: what the process holds, not what it has yet to collect. */
  | { type: 'collect' }
  | { type: 'profile-start'; intervalUs: number }
  | { type: 'profile-stop'; path: string };

export interface ServerStats {
  /** The request answered. */
  type: 'stats' | 'collect';
  /** Event-loop delay since the last reset, milliseconds. */
  eventLoopP50Ms: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  rssMb: number;
  heapUsedMb: number;
  /** CPU time of the server process since it started (user + system), microseconds. */
  cpuUs: number;
}

export function serveStats(): void {
  const send = process.send?.bind(process);
  if (!send) return;
  // 10 ms resolution is the default; 1 ms makes the p99 of a loop blocked for a few ms visible.
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let session: Session | undefined;
  process.on('message', (message: StatsRequest) => {
    void (async () => {
      if (message.type === 'reset') {
        delay.reset();
        send({ type: 'reset' });
      } else if (message.type === 'stats' || message.type === 'collect') {
        if (message.type === 'collect') {
          // The process was not started with --expose-gc (the server runs as npm start runs it).
          setFlagsFromString('--expose_gc');
          (runInNewContext('gc') as () => void)();
        }
        const memory = process.memoryUsage();
        const ms = (ns: number) => ns / 1e6;
        const stats: ServerStats = {
          type: message.type,
          eventLoopP50Ms: ms(delay.percentile(50)),
          eventLoopP99Ms: ms(delay.percentile(99)),
          eventLoopMaxMs: ms(delay.max),
          rssMb: memory.rss / 1024 / 1024,
          heapUsedMb: memory.heapUsed / 1024 / 1024,
          cpuUs: process.cpuUsage().user + process.cpuUsage().system,
        };
        send(stats);
      } else if (message.type === 'profile-start') {
        session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: message.intervalUs });
        await session.post('Profiler.start');
        send({ type: 'profile-start' });
      } else if (message.type === 'profile-stop') {
        if (!session) throw new Error('profile-stop before profile-start');
        const { profile } = await session.post('Profiler.stop');
        writeFileSync(message.path, JSON.stringify(profile));
        session.disconnect();
        session = undefined;
        send({ type: 'profile-stop' });
      }
    })();
  });
}
