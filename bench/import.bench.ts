/**
 * Import benchmark: a generated CSV of N people (1,000,000 by default) imported through the real
 * path (stream → parse → validate and normalize → hash and encrypt → COPY to staging → one merge into
 * people), beside PostgreSQL's own COPY of the same file into a plain table, in the same run, on the
 * same database. Prints rows/s for both, the ratio, and the peak resident memory while importing.
 *
 *   npm run bench:import            (or IMPORT_BENCH_ROWS=200000 npm run bench:import)
 *
 * Uses DATABASE_URL in a throwaway schema it drops at the end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { parseConfig } from '../src/config.js';
import { createDb, migrate } from '../src/platform/db.js';
import { createLogger } from '../src/platform/logger.js';
import { createVault } from '../src/platform/vault.js';
import { systemClock } from '../src/platform/clock.js';
import { insertIncident } from '../src/incidents/store.js';
import { csvRecords, runImport } from '../src/imports/run.js';
import { createImportStager } from '../src/imports/stage-pool.js';

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
  const importStager = createImportStager(config, vault);
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
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
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

    const copyRate = ROWS / copySeconds;
    const importRate = ROWS / importSeconds;
    console.log(
      `  PostgreSQL COPY (baseline): ${copySeconds.toFixed(1)} s, ${Math.round(copyRate).toLocaleString('en')} rows/s`,
    );
    console.log(
      `  Candor import:              ${importSeconds.toFixed(1)} s, ${Math.round(importRate).toLocaleString('en')} rows/s ` +
        `(${result.peopleCreated} people created, ${result.peopleMerged} merged)`,
    );
    const stageSeconds = (stagedAt - started) / 1000;
    const cpuSeconds = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1e6;
    console.log(
      `    read, validate, seal, COPY to staging: ${stageSeconds.toFixed(1)} s, ` +
        `${Math.round(ROWS / stageSeconds).toLocaleString('en')} rows/s, ` +
        `${(cpuSeconds(cpuStaged) - cpuSeconds(cpuAtStart)).toFixed(1)} s of Node CPU`,
    );
    console.log(`    merge into people:                     ${(importSeconds - stageSeconds).toFixed(1)} s`);
    console.log(`  ratio import / COPY:        ${(importRate / copyRate).toFixed(3)} (goal ≥ 0.5)`);
    console.log(`  peak RSS while importing:   ${(peakRss / 1024 ** 2).toFixed(0)} MB (goal < 256 MB)`);
    console.log(
      `  load average:               ${os
        .loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await importStager.close();
    await db.end();
    fs.rmSync(file, { force: true });
    const admin = new pg.Client({ connectionString: config.databaseUrl });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

await main();
