import './compileCache';
import { main } from './server';

/** The local/container server's bundle entry (scripts/bundle.ts): an ES module has no `require.main` to test. */
main();
