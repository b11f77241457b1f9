// Node client smoke test: starts shardis-server (--threads 2) on a free loopback port and runs a
// bounded set of operations through node-redis v4 and ioredis, checking the results.
// Usage: node smoke.js /path/to/shardis-server   (node_modules from `npm ci` in this folder)
'use strict';
const { spawn } = require('child_process');
const net = require('net');
const assert = require('assert/strict');
const { createClient } = require('redis');
const Redis = require('ioredis');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function startServer(bin) {
  const port = await freePort();
  const proc = spawn(bin, ['--port', String(port), '--threads', '2', '--bind', '127.0.0.1',
    '--pin=false', '--save', ''], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 100; ++i) {  // up to 10 s
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return { proc, port };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error('shardis-server did not start');
}

async function nodeRedis(port) {
  const c = createClient({ url: `redis://127.0.0.1:${port}`, name: 'node-redis-smoke' });
  c.on('error', (e) => { throw e; });
  await c.connect();
  assert.equal(await c.ping(), 'PONG');
  assert.equal(await c.clientGetName(), 'node-redis-smoke');
  // Strings, hashes, lists, sets, zsets.
  assert.equal(await c.set('nr:s', 'v'), 'OK');
  assert.equal(await c.get('nr:s'), 'v');
  assert.equal(await c.incrBy('nr:n', 5), 5);
  await c.hSet('nr:h', { a: '1', b: '2' });
  assert.deepEqual({ ...(await c.hGetAll('nr:h')) }, { a: '1', b: '2' });
  assert.equal(await c.rPush('nr:l', ['x', 'y', 'z']), 3);
  assert.deepEqual(await c.lRange('nr:l', 0, -1), ['x', 'y', 'z']);
  assert.equal(await c.sAdd('nr:set', ['a', 'b', 'c']), 3);
  assert.deepEqual((await c.sMembers('nr:set')).sort(), ['a', 'b', 'c']);
  await c.zAdd('nr:z', [{ score: 1, value: 'one' }, { score: 2, value: 'two' }]);
  assert.deepEqual(await c.zRangeWithScores('nr:z', 0, -1),
    [{ value: 'one', score: 1 }, { value: 'two', score: 2 }]);
  // Streams.
  const id = await c.xAdd('nr:x', '*', { f: 'v' });
  const entries = await c.xRange('nr:x', '-', '+');
  assert.equal(entries.length, 1);
  assert.equal(entries[0].id, id);
  assert.deepEqual({ ...entries[0].message }, { f: 'v' });
  // MULTI and pipelines (keys on both shards).
  const res = await c.multi().set('nr:t1', '1').incr('nr:t1').get('nr:t1').exec();
  assert.deepEqual(res, ['OK', 2, '2']);
  const keys = Array.from({ length: 20 }, (_, i) => `nr:p${i}`);
  await Promise.all(keys.map((k, i) => c.set(k, String(i))));
  assert.deepEqual(await c.mGet(keys), keys.map((_, i) => String(i)));
  // SCAN iterator.
  const seen = new Set();
  for await (const k of c.scanIterator({ MATCH: 'nr:p*', COUNT: 5 })) seen.add(k);
  assert.equal(seen.size, 20);
  // Blocking pop served by a push from another connection.
  const blocker = c.duplicate();
  await blocker.connect();
  const pop = blocker.blPop('nr:bl', 5);
  await new Promise((r) => setTimeout(r, 50));
  await c.rPush('nr:bl', 'item');
  assert.deepEqual({ ...(await pop) }, { key: 'nr:bl', element: 'item' });
  // Pub/sub.
  const sub = c.duplicate();
  await sub.connect();
  const got = new Promise((resolve) => sub.subscribe('nr:ch', (msg) => resolve(msg)));
  for (let i = 0; i < 50; ++i) {
    if ((await c.publish('nr:ch', 'hello')) > 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(await got, 'hello');
  // Lua.
  assert.equal(await c.eval('return redis.call("GET", KEYS[1])', { keys: ['nr:s'] }), 'v');
  await Promise.all([blocker.quit(), sub.quit()]);
  await c.quit();
}

async function ioredis(port) {
  const c = new Redis({ port, host: '127.0.0.1', connectionName: 'ioredis-smoke',
    maxRetriesPerRequest: 1, lazyConnect: true });
  await c.connect();
  assert.equal(await c.client('GETNAME'), 'ioredis-smoke');
  assert.equal(await c.set('io:s', 'v', 'EX', 100), 'OK');
  assert.equal(await c.get('io:s'), 'v');
  assert.ok((await c.ttl('io:s')) > 0);
  await c.hset('io:h', 'a', '1', 'b', '2');
  assert.deepEqual({ ...(await c.hgetall('io:h')) }, { a: '1', b: '2' });
  await c.rpush('io:l', 'a', 'b');
  assert.equal(await c.lpop('io:l'), 'a');
  await c.sadd('io:set', 'x', 'y');
  assert.equal(await c.scard('io:set'), 2);
  await c.zadd('io:z', 3, 'c', 1, 'a');
  assert.deepEqual(await c.zrange('io:z', 0, -1, 'WITHSCORES'), ['a', '1', 'c', '3']);
  await c.xadd('io:x', '1-1', 'f', 'v');
  assert.deepEqual(await c.xrange('io:x', '-', '+'), [['1-1', ['f', 'v']]]);
  // Pipeline across shards.
  const p = c.pipeline();
  for (let i = 0; i < 20; ++i) p.set(`io:p${i}`, String(i));
  for (let i = 0; i < 20; ++i) p.get(`io:p${i}`);
  const out = await p.exec();
  for (let i = 0; i < 20; ++i) assert.deepEqual(out[20 + i], [null, String(i)]);
  // MULTI.
  assert.deepEqual(await c.multi().incr('io:n').incr('io:n').exec(), [[null, 1], [null, 2]]);
  // Lua via defineCommand (EVALSHA, then EVAL on NOSCRIPT).
  c.defineCommand('getset2', { numberOfKeys: 1,
    lua: 'local o = redis.call("GET", KEYS[1]); redis.call("SET", KEYS[1], ARGV[1]); return o' });
  assert.equal(await c.getset2('io:s', 'w'), 'v');
  assert.equal(await c.getset2('io:s', 'x'), 'w');
  // SCAN stream.
  const seen = new Set();
  await new Promise((resolve, reject) => {
    const s = c.scanStream({ match: 'io:p*', count: 5 });
    s.on('data', (ks) => ks.forEach((k) => seen.add(k)));
    s.on('end', resolve);
    s.on('error', reject);
  });
  assert.equal(seen.size, 20);
  // Blocking pop and pub/sub.
  const b = c.duplicate();
  const pop = b.brpop('io:bl', 5);
  await new Promise((r) => setTimeout(r, 50));
  await c.lpush('io:bl', 'item');
  assert.deepEqual(await pop, ['io:bl', 'item']);
  const sub = c.duplicate();
  await sub.subscribe('io:ch');
  const msg = new Promise((resolve) => sub.on('message', (ch, m) => resolve([ch, m])));
  await c.publish('io:ch', 'hi');
  assert.deepEqual(await msg, ['io:ch', 'hi']);
  await Promise.all([b.quit(), sub.quit()]);
  await c.quit();
}

async function main() {
  const bin = process.argv[2];
  if (!bin) throw new Error('usage: node smoke.js /path/to/shardis-server');
  const { proc, port } = await startServer(bin);
  const timer = setTimeout(() => { proc.kill('SIGKILL'); console.error('timeout'); process.exit(1); },
    60000);
  try {
    await nodeRedis(port);
    console.log('node-redis: ok');
    await ioredis(port);
    console.log('ioredis: ok');
  } finally {
    clearTimeout(timer);
    proc.kill('SIGTERM');
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
