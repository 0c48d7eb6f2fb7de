import { Piscina } from 'piscina';
import type { Vault } from '../platform/vault.js';
import { stageBatch, type StageBatchInput, type StagedBatch } from './stage.js';

/** Runs the import's per-row work (validate, hash, encrypt) on batches of rows. */
export interface RowStager {
  stage(input: StageBatchInput): Promise<StagedBatch>;
  close(): Promise<void>;
}

export interface StageWorkerData {
  encryptionKeys: { current: Uint8Array; previous: Uint8Array[] };
  lookupHmacKey: Uint8Array;
}

/** The work on the calling thread: for one core, and for tests that want no threads. */
export function inProcessStager(vault: Vault): RowStager {
  return {
    // A promise that settles after the work, so a thrown error reaches the caller as a rejection.
    stage: (input) => new Promise((resolve) => resolve(stageBatch(vault, input))),
    close: () => Promise.resolve(),
  };
}

/**
 * The work on a pool of threads, so hashing and encryption use every core while the main thread
 * reads the file and feeds PostgreSQL. Threads start with the first import and leave when idle, so
 * a web process that never imports pays nothing. The threads get the keys through workerData:
 * they share the process's memory, where the keys already are.
 */
export function threadPoolStager(
  keys: { encryptionKeys: { current: Buffer; previous: Buffer[] }; lookupHmacKey: Buffer },
  threads: number,
): RowStager {
  const workerData: StageWorkerData = keys;
  const pool = new Piscina<StageBatchInput, StagedBatch>({
    filename: new URL('./stage-worker.ts', import.meta.url).href,
    // The threads run TypeScript like the process does, whichever way it was started (tsx, vitest).
    execArgv: ['--import', 'tsx'],
    workerData,
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: 30_000,
    // Each batch is garbage as soon as it is returned: small heaps collect it early, so threads add
    // little to the process's memory (the import must stay under 256 MB at a million rows).
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 48 },
  });
  return {
    stage: (input) => pool.run(input),
    close: () => pool.close(),
  };
}

/** Threads when configured (IMPORT_THREADS), else the calling thread. */
export function createImportStager(
  config: {
    encryptionKeys: { current: Buffer; previous: Buffer[] };
    lookupHmacKey: Buffer;
    importThreads: number;
  },
  vault: Vault,
): RowStager {
  return config.importThreads > 0
    ? threadPoolStager(
        { encryptionKeys: config.encryptionKeys, lookupHmacKey: config.lookupHmacKey },
        config.importThreads,
      )
    : inProcessStager(vault);
}
