import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import { listBound } from '../../graphql/query-cost.ts';
import { ApiKeyRef } from '../api-key/api-key.schema.ts';
import { dailyUsageOfKeys, dailyWindow, MAX_DAYS, type DailyUsage } from './daily-usage.ts';
import { UsageRef } from './run.schema.ts';

const DailyUsageRef = builder.objectRef<DailyUsage>('ApiKeyDailyUsage').implement({
  description: "A key's runs on one UTC day.",
  fields: (t) => ({
    day: t.exposeString('day', { description: 'The UTC date, YYYY-MM-DD.' }),
    usage: t.field({ type: UsageRef, resolve: (daily) => daily.usage }),
  }),
});

builder.objectField(ApiKeyRef, 'dailyUsage', (t) =>
  t.loadableList({
    type: DailyUsageRef,
    description: `The key's usage per UTC day, oldest first, every day of the window present (zeros included): a chart's series. The window is the \`days\` days (1 to ${MAX_DAYS}) ending with the day of \`until\` (today by default); when \`until\` is given, runs started at or after it are left out.`,
    args: {
      days: t.arg.int({ defaultValue: 14 }),
      until: t.arg({ type: 'DateTime' }),
    },
    // One entry per day: the query cost counts what it selects once per day asked for (a bad
    // `days` refuses itself, so it never costs more than MAX_DAYS).
    complexity: (args) => listBound(Math.min(Math.max(args.days ?? 14, 1), MAX_DAYS)),
    // byPath: the keys at one place in the query share the window, and one statement.
    byPath: true,
    load: (keyIds: string[], ctx: Context, args) => dailyUsageOfKeys(ctx.em, keyIds, dailyWindow(args.days, args.until, new Date())),
    resolve: (key, args) => {
      // Checked here too, so that a bad window is refused for each key with its field's path.
      dailyWindow(args.days, args.until, new Date());
      return key.id;
    },
  }),
);
