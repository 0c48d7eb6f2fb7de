/**
 * Import benchmark: a generated CSV of N people (1,000,000 by default) imported through the real
 * path (stream → parse → validate and normalize → hash and encrypt on IMPORT_THREADS threads, 2 unless
 * set → COPY to staging → one insert into people, the first import of an incident), beside the
 * database floor of that design in the same run: the same rows, already sealed (read back from
 * people), COPYed into staging and inserted into an empty table shaped and indexed like people.
 * For comparison it also prints the floor of a design this one does not build (COPY into an
 * unindexed table of people's shape, then its five indexes built), and a bare COPY of the CSV text.
 *
 *   npm run bench:import            (or IMPORT_BENCH_ROWS=200000 npm run bench:import)
 *
 * Uses DATABASE_URL in a throwaway schema it drops at the end. Wall times on a shared machine are
 * noisy: the Node CPU seconds beside them are steadier.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { parseConfig } from '../src/config.js';
import { createDb, migrate } from '../src/platform/db.js';
import { createLogger } from '../src/platform/logger.js';
import { createVault } from '../src/platform/vault.js';
import { systemClock } from '../src/platform/clock.js';
import { insertIncident } from '../src/incidents/store.js';
import { csvRecords, runImport } from '../src/imports/run.js';
import { createImportStager } from '../src/imports/stage-pool.js';
import { STAGING_COLUMNS } from '../src/imports/store.js';
import { PERSON_COLUMNS } from '../src/people/store.js';

const ROWS = Number(process.env.IMPORT_BENCH_ROWS ?? 1_000_000);
const HEADER = 'name,email,phone,country,language,postal_code,birth_year,exposed_data_types\n';
const FIRST = ['Ada', 'Bruno', 'Chloé', 'Dev', 'Elena', 'Farid', 'Grace', 'Hugo', 'Inès', 'Jonas'];
const LAST = ['Martin', 'Okafor', 'Dubois', 'Sharma', 'García', 'Haddad', 'Müller', 'Rossi'];

function* generatedLines(rows: number): Generator<string> {
  yield HEADER;
  for (let i = 0; i < rows; i += 1) {
    const french = i % 3 === 1;
    const name = `${FIRST[i % FIRST.length]} ${LAST[(i >> 3) % LAST.length]}`;
    // Distinct valid mobile numbers; every other person has only a phone, every fifth only an email.
    const phone = i % 5 === 0 ? '' : `+44 7400 ${String(i % 1_000_000).padStart(6, '0')}`;
    const email = i % 2 === 1 && phone ? '' : `person${i}@example.org`;
    yield `${name},${email},${phone},${french ? 'FR' : 'GB'},${french ? 'fr' : 'en'},BS${i % 10} ${i % 9}XX,${1940 + (i % 60)},names;email_addresses\n`;
  }
}

async function writeFile(file: string, rows: number) {
  await pipeline(Readable.from(generatedLines(rows)), fs.createWriteStream(file));
}

async function main() {
  const config = parseConfig(process.env);
  const schema = `bench_import_${process.pid}`;
  const url = new URL(config.databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const logger = createLogger({ level: 'warn' });
  const file = path.join(os.tmpdir(), `candor-import-bench-${process.pid}.csv`);
  const sealedFile = path.join(os.tmpdir(), `candor-import-bench-${process.pid}.sealed`);
  console.log(`Import benchmark: ${ROWS.toLocaleString('en')} rows, schema ${schema}`);
  await writeFile(file, ROWS);
  console.log(`  generated ${(fs.statSync(file).size / 1024 ** 2).toFixed(0)} MB of CSV`);
  // Other processes may be migrating the same database (the advisory lock refuses, it does not wait).
  for (let attempt = 1; ; attempt += 1) {
    try {
      await migrate(url.toString(), logger, schema);
      break;
    } catch (error) {
      if (attempt >= 60 || !String(error).includes('Another migration')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
  const db = createDb(url.toString(), logger);
  const vault = createVault(config.encryptionKeys, config.lookupHmacKey);
  const importThreads = Number(process.env.IMPORT_THREADS ?? 2);
  const importStager = createImportStager({ ...config, importThreads }, vault);
  try {
    // Baseline: PostgreSQL's COPY of the same rows, as text, into a table shaped like the file.
    await db.query(
      `CREATE TABLE copy_baseline (name text, email text, phone text, country text, language text,
         postal_code text, birth_year text, exposed_data_types text)`,
    );
    const client = await db.connect();
    let started = performance.now();
    await pipeline(
      fs.createReadStream(file),
      client.query(copyFrom('COPY copy_baseline FROM STDIN WITH (FORMAT csv, HEADER true)')),
    );
    const copySeconds = (performance.now() - started) / 1000;
    client.release();

    const incident = await insertIncident(db, {
      slug: 'import-benchmark',
      organisationName: 'Benchmark',
      dataTypes: [],
      texts: {},
    });
    let peakRss = process.memoryUsage().rss;
    // What the main thread's heap and buffers held at the peak; the rest is code and the threads.
    let atPeak = process.memoryUsage();
    const sampler = setInterval(() => {
      const usage = process.memoryUsage();
      if (usage.rss > peakRss) [peakRss, atPeak] = [usage.rss, usage];
    }, 50);
    started = performance.now();
    // The last progress report comes after the final row is staged and before the merge starts.
    let stagedAt = started;
    // CPU time of this process (all its threads), which a busy machine inflates less than wall time.
    const cpuAtStart = process.cpuUsage();
    let cpuStaged = cpuAtStart;
    const result = await runImport(
      { db, vault, clock: systemClock, logger, importStager, config },
      {
        incidentId: incident.id,
        createdBy: null,
        filename: 'bench.csv',
        records: csvRecords(fs.createReadStream(file)),
        acceptValidRows: false,
        onProgress: () => {
          stagedAt = performance.now();
          cpuStaged = process.cpuUsage();
        },
      },
    );
    const importSeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (result.status !== 'completed' || result.rowsValid !== ROWS)
      throw new Error(`import did not complete: ${JSON.stringify(result)}`);

    const stageSeconds = (stagedAt - started) / 1000;
    const cpuSeconds = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1e6;
    const stageCpu = cpuSeconds(cpuStaged) - cpuSeconds(cpuAtStart);

    // The floor of this design: the same rows, already sealed, through the same database work.
    const timed = async (work: () => Promise<unknown>) => {
      const from = performance.now();
      await work();
      return (performance.now() - from) / 1000;
    };
    const reader = await db.connect();
    await pipeline(
      reader.query(
        copyTo(
          `COPY (SELECT 0, id, ${PERSON_COLUMNS.join(', ')} FROM people WHERE incident_id = ${incident.id}) TO STDOUT`,
        ),
      ),
      fs.createWriteStream(sealedFile),
    );
    reader.release();
    await db.query('CREATE TABLE floor_people (LIKE people INCLUDING ALL)');
    const floorClient = await db.connect();
    const floorCopy = await timed(() =>
      pipeline(
        fs.createReadStream(sealedFile),
        floorClient.query(copyFrom(`COPY import_rows (${STAGING_COLUMNS.join(', ')}) FROM STDIN`)),
      ),
    );
    floorClient.release();
    const floorInsert = await timed(async () => {
      await db.query(
        `INSERT INTO floor_people (incident_id, ${PERSON_COLUMNS.join(', ')})
         SELECT ${incident.id}, ${PERSON_COLUMNS.join(', ')} FROM import_rows WHERE import_id = 0`,
      );
      await db.query('DELETE FROM import_rows WHERE import_id = 0');
    });
    const floorSeconds = floorCopy + floorInsert;
    await db.query('DROP TABLE floor_people');

    // Another design's floor, for comparison: a fresh unindexed table, then its five indexes.
    await db.query('CREATE TABLE bulk_people (LIKE people INCLUDING DEFAULTS)');
    const bulkClient = await db.connect();
    const bulkCopy = await timed(() =>
      pipeline(
        fs.createReadStream(sealedFile),
        bulkClient.query(
          copyFrom(`COPY bulk_people (incident_id, id, ${PERSON_COLUMNS.join(', ')}) FROM STDIN`),
        ),
      ),
    );
    bulkClient.release();
    const bulkIndexes = await timed(async () => {
      await db.query('ALTER TABLE bulk_people ADD PRIMARY KEY (id)');
      await db.query('CREATE UNIQUE INDEX ON bulk_people (reference_hash)');
      await db.query('CREATE UNIQUE INDEX ON bulk_people (incident_id, dedupe_hash)');
      await db.query('CREATE INDEX ON bulk_people (email_hash, incident_id) WHERE email_hash IS NOT NULL');
      await db.query('CREATE INDEX ON bulk_people (phone_hash, incident_id) WHERE phone_hash IS NOT NULL');
    });
    await db.query('DROP TABLE bulk_people');

    const rate = (seconds: number) => `${Math.round(ROWS / seconds).toLocaleString('en')} rows/s`;
    const ratio = floorSeconds / importSeconds;
    console.log(
      `  bare COPY of the CSV text into a plain table: ${copySeconds.toFixed(1)} s (${rate(copySeconds)})`,
    );
    console.log(
      `  Candor import (${importThreads} threads): ${importSeconds.toFixed(1)} s, ${rate(importSeconds)} ` +
        `(${result.peopleCreated} people created, ${result.peopleMerged} merged)`,
    );
    console.log(
      `    read, validate, seal, COPY to staging: ${stageSeconds.toFixed(1)} s, ${rate(stageSeconds)}, ` +
        `${stageCpu.toFixed(1)} s of Node CPU (${((stageCpu / ROWS) * 1e6).toFixed(0)} µs a row)`,
    );
    console.log(`    insert into people (first import):     ${(importSeconds - stageSeconds).toFixed(1)} s`);
    console.log(
      `  floor of this design, the same sealed rows: ${floorSeconds.toFixed(1)} s ` +
        `(COPY to staging ${floorCopy.toFixed(1)} s + insert into indexed people ${floorInsert.toFixed(1)} s)`,
    );
    console.log(
      `  floor of a fresh-table design (not built): ${(bulkCopy + bulkIndexes).toFixed(1)} s ` +
        `(COPY into an unindexed table ${bulkCopy.toFixed(1)} s + five indexes ${bulkIndexes.toFixed(1)} s)`,
    );
    const mb = (bytes: number) => (bytes / 1024 ** 2).toFixed(0);
    console.log(
      `  peak RSS while importing:   ${mb(peakRss)} MB (goal < 256 MB; main thread's heap ` +
        `${mb(atPeak.heapTotal)} MB, of it used ${mb(atPeak.heapUsed)} MB, buffers ${mb(atPeak.external)} MB)`,
    );
    console.log(
      `  load average:               ${os
        .loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
    );
    console.log(
      `import: ${importSeconds.toFixed(1)} s for ${ROWS.toLocaleString('en')} rows ` +
        `(${ratio.toFixed(2)} × floor ${floorSeconds.toFixed(1)} s, goal ≥ 0.5× and < 45 s; ` +
        `peak RSS ${(peakRss / 1024 ** 2).toFixed(0)} MB, goal < 256 MB)`,
    );
  } finally {
    await importStager.close();
    await db.end();
    fs.rmSync(file, { force: true });
    fs.rmSync(sealedFile, { force: true });
    const admin = new pg.Client({ connectionString: config.databaseUrl });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

await main();
