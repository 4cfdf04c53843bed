import fs from 'node:fs';
import { OBSERVED_DIR } from './observedResponses';

/** A run starts with no observed responses: test/support/globalTeardown.ts checks only this run's. */
export default function globalSetup(): void {
  fs.rmSync(OBSERVED_DIR, { recursive: true, force: true });
}
