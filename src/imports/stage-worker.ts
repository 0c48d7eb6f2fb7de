import { workerData } from 'node:worker_threads';
import { createVault } from '../platform/vault.js';
import { stageBatch, type StageBatchInput, type StagedBatch } from './stage.js';
import type { StageWorkerData } from './stage-pool.js';

/** A thread of the import pool: the same per-row work as in-process, with its own vault. */
const keys = workerData as StageWorkerData;
// Buffers arrive as plain Uint8Arrays after the structured clone into the thread.
const vault = createVault(
  {
    current: Buffer.from(keys.encryptionKeys.current),
    previous: keys.encryptionKeys.previous.map((key) => Buffer.from(key)),
  },
  Buffer.from(keys.lookupHmacKey),
);

export default function stage(input: StageBatchInput): StagedBatch {
  return stageBatch(vault, input);
}
