import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { QUEUE_NAMES, queueNames } from '../../src/queues.js';

describe('where Candor keeps its keys in Redis', () => {
  it('keeps every key name of earlier releases on one Redis server, so queued jobs survive an upgrade', () => {
    const config = parseConfig({ QUEUE_PREFIX: 'candor' });
    expect(config.redisClusterNodes).toEqual([]);
    expect(config.queuePrefix).toBe('candor');
    expect(config.queues).toEqual({ prefix: 'candor', tagEachQueue: false });
    expect(queueNames(config.queues)).toEqual(QUEUE_NAMES);
    // A prefix that was already a hash tag keeps working as it did.
    expect(parseConfig({ QUEUE_PREFIX: '{candor}' }).queues.prefix).toBe('{candor}');
  });

  it('gives each queue its own hash tag on a Redis Cluster, and Candor’s own keys one shared tag', () => {
    const config = parseConfig({
      REDIS_CLUSTER_NODES: ' 10.0.0.11:6379, redis-b.internal:7000 ',
      QUEUE_PREFIX: 'candor',
    });
    expect(config.redisClusterNodes).toEqual([
      { host: '10.0.0.11', port: 6379 },
      { host: 'redis-b.internal', port: 7000 },
    ]);
    expect(config.queuePrefix).toBe('{candor}');
    const names = queueNames(config.queues);
    expect(names.fanout).toBe('{campaign-fanout}');
    expect(names.send).toEqual({
      email: '{send-email}',
      sms: '{send-sms}',
      voice: '{send-voice}',
      letter: '{send-letter}',
    });
    // Every queue, also those added later, is tagged: none is left out.
    const all = (value: object): string[] =>
      Object.values(value).flatMap((v) => (typeof v === 'string' ? [v] : all(v as object)));
    expect(all(names)).toEqual(all(QUEUE_NAMES).map((name) => `{${name}}`));
  });

  it('says what is wrong with a cluster setting', () => {
    expect(() => parseConfig({ REDIS_CLUSTER_NODES: '10.0.0.11' })).toThrow(
      /REDIS_CLUSTER_NODES must list host:port/,
    );
    expect(() => parseConfig({ REDIS_CLUSTER_NODES: '10.0.0.11:70000' })).toThrow(/between 1 and 65535/);
    expect(() => parseConfig({ REDIS_CLUSTER_NODES: '10.0.0.11:6379', QUEUE_PREFIX: '{candor}' })).toThrow(
      /set QUEUE_PREFIX without \{ \}/,
    );
  });
});
