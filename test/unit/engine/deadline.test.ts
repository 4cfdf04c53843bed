import v8 from 'node:v8';
import vm from 'node:vm';
import { Deadline } from '../../../src/engine/deadline';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a stage of the deadline', () => {
  it('ends at its own share even when the garbage collector runs meanwhile (a silent identity endpoint is cut on time)', async () => {
    const deadline = new Deadline(10_000);
    try {
      // Held as identity.ts holds it: by the code awaiting it. Nothing else references the stage's own timer signal.
      const stage = deadline.stageSignal(200);
      const ended = new Promise<string>((resolve) => stage.addEventListener('abort', () => resolve((stage.reason as Error).name), { once: true }));
      for (let i = 0; i < 6; i++) {
        gc();
        await sleep(20);
      }
      await expect(Promise.race([ended, sleep(3000).then(() => 'never ended')])).resolves.toBe('TimeoutError');
      expect(stage.aborted && !deadline.passed).toBe(true);
    } finally {
      deadline.dispose();
    }
  });
});
