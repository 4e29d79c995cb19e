/** `npm run db:seed`: seeds the demo into the database at DATABASE_URL, if it has no accounts yet. */
import { loadConfig } from '../config.ts';
import { openDatabase } from './orm.ts';
import { isEmpty, seedDemo, seedMessage } from './seed.ts';

const config = loadConfig();
const orm = await openDatabase(config.database);
try {
  const em = orm.em.fork();
  if (!(await isEmpty(em))) {
    console.log('The database already has accounts; the demo is only seeded into an empty one.');
  } else {
    await em.transactional((tx) => seedDemo(tx));
    console.log(seedMessage(`http://localhost:${config.port}/graphql`));
  }
} finally {
  await orm.close(true);
}
