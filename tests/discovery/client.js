// SPDX-License-Identifier: MIT
// The discovery registry called by @grpc/grpc-js with the protocol's own schema
// (cluster.proto here, proto3 with google.protobuf.Duration): Hello, updates and endpoint
// merging, List, Watch (snapshot, changes, deletions), TTL expiry, limits, other clusters
// unaffected, a watcher that stops reading dropped while the others go on.
// Prints TAP lines; exits non-zero if anything failed.
//   node client.js ENDPOINT LIMITED_ENDPOINT TLS_ENDPOINT CA
'use strict';
const fs = require('fs');
const path = require('path');
const grpc = require(path.resolve(__dirname, '../interop/node_modules/@grpc/grpc-js'));
const loader = require(path.resolve(__dirname, '../interop/node_modules/@grpc/proto-loader'));

const [endpoint, limited, tlsEndpoint, caFile] = process.argv.slice(2);
const def = loader.loadSync(path.join(__dirname, 'cluster.proto'), { keepCase: true, longs: String, defaults: true });
const Cluster = grpc.loadPackageDefinition(def).sidero.discovery.server.Cluster;
let failed = 0;
const ok = (c, what, detail) => {
  if (c) console.log(`ok - ${what}`);
  else { failed++; console.log(`not ok - ${what}`); if (detail !== undefined) console.log(`#   ${JSON.stringify(detail)}`); }
};
const client = (ep, creds) => new Cluster(ep, creds || grpc.credentials.createInsecure());
const call = (c, m, req) => new Promise((resolve) => c[m](req, { deadline: Date.now() + 10000 },
  (err, res) => resolve({ err, res })));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ttl = (s) => ({ seconds: String(s), nanos: 0 });
const b = (s) => Buffer.from(s);
const ids = (list) => list.map((a) => a.id).sort().join(',');

// Collects a watch's messages; waitFor resolves when pred holds for what arrived.
function watch(c, cluster) {
  const w = { msgs: [], ended: null, call: c.Watch({ cluster_id: cluster }) };
  w.call.on('data', (m) => w.msgs.push(m));
  w.call.on('error', (e) => { w.ended = e; });
  w.call.on('end', () => { if (!w.ended) w.ended = { code: 0 }; });
  w.waitFor = async (pred, ms = 5000) => {
    for (const t = Date.now(); Date.now() - t < ms; await sleep(20)) if (pred(w.msgs)) return true;
    return false;
  };
  return w;
}

async function main() {
  const c = client(endpoint);
  let r = await call(c, 'Hello', { cluster_id: 'c1', client_version: 'test' });
  ok(!r.err && r.res.client_ip.equals(Buffer.from([127, 0, 0, 1])),
    'Hello: the registry says the address it sees (127.0.0.1, 4 bytes)', r.err || r.res);

  const w = watch(c, 'c1');
  ok(await w.waitFor((m) => m.length >= 1) && w.msgs[0].affiliates.length === 0,
    'Watch: the first message is the snapshot, empty for a new cluster', w.msgs);

  r = await call(c, 'AffiliateUpdate', { cluster_id: 'c1', affiliate_id: 'n1', affiliate_data: b('sealed-1'),
    affiliate_endpoints: [b('ep-a')], ttl: ttl(60) });
  r = r.err ? r : await call(c, 'AffiliateUpdate', { cluster_id: 'c1', affiliate_id: 'n1',
    affiliate_endpoints: [b('ep-b'), b('ep-a')], ttl: ttl(60) });
  r = r.err ? r : await call(c, 'List', { cluster_id: 'c1' });
  const n1 = r.res && r.res.affiliates.find((a) => a.id === 'n1');
  ok(n1 && n1.data.equals(b('sealed-1')) && n1.endpoints.map(String).sort().join() === 'ep-a,ep-b',
    'an update without data keeps the data; its endpoints are merged (ep-a once, ep-b added)', r.err || r.res);
  ok(await w.waitFor((m) => m.some((x) => !x.deleted && x.affiliates.some((a) => a.id === 'n1' && a.endpoints.length === 2))),
    'the watcher hears the new affiliate and its merged endpoints', w.msgs);

  const before = w.msgs.length;
  await call(c, 'AffiliateUpdate', { cluster_id: 'c1', affiliate_id: 'n1', affiliate_data: b('sealed-1'),
    affiliate_endpoints: [b('ep-a')], ttl: ttl(60) });
  await call(c, 'AffiliateUpdate', { cluster_id: 'c1', affiliate_id: 'n2', affiliate_data: b('sealed-2'), ttl: ttl(60) });
  ok(await w.waitFor((m) => m.some((x) => x.affiliates.some((a) => a.id === 'n2'))) &&
     !w.msgs.slice(before).some((x) => x.affiliates.some((a) => a.id === 'n1')),
    'a refresh that changes nothing is not announced; another affiliate is', w.msgs.slice(before));

  const w2 = watch(c, 'c1');
  ok(await w2.waitFor((m) => m.length >= 1) && ids(w2.msgs[0].affiliates) === 'n1,n2',
    'a second watcher gets both affiliates in its snapshot', w2.msgs);

  await call(c, 'AffiliateDelete', { cluster_id: 'c1', affiliate_id: 'n2' });
  r = await call(c, 'List', { cluster_id: 'c1' });
  ok(await w.waitFor((m) => m.some((x) => x.deleted && ids(x.affiliates) === 'n2')) && r.res && ids(r.res.affiliates) === 'n1',
    'AffiliateDelete: watchers hear it (deleted, only the id) and List no longer has it', w.msgs.slice(-1));

  await call(c, 'AffiliateUpdate', { cluster_id: 'c1', affiliate_id: 'short', affiliate_data: b('x'), ttl: ttl(1) });
  const t0 = Date.now();
  const gone = await w.waitFor((m) => m.some((x) => x.deleted && ids(x.affiliates) === 'short'), 6000);
  r = await call(c, 'List', { cluster_id: 'c1' });
  ok(gone && r.res && ids(r.res.affiliates) === 'n1',
    `an affiliate whose TTL (1 s) runs out is gone, and watchers hear it (${Date.now() - t0} ms)`, w.msgs.slice(-1));

  // Limits: each refusal names what and why, and nothing of the request is kept.
  const bad = [
    [{ cluster_id: 'c1', affiliate_id: 'big', affiliate_data: Buffer.alloc(2049), ttl: ttl(60) }, 3, /affiliate_data is 2049 bytes, more than 2048/],
    [{ cluster_id: 'c1', affiliate_id: 'long', affiliate_data: b('x'), ttl: ttl(1801) }, 3, /ttl: 1801 s, more than 1800 s/],
    [{ cluster_id: 'c1', affiliate_id: 'nottl', affiliate_data: b('x') }, 3, /ttl: a positive duration is required/],
    [{ cluster_id: 'c1', affiliate_id: 'x'.repeat(257), affiliate_data: b('x'), ttl: ttl(60) }, 3, /affiliate_id is 257 bytes, more than 256/],
    [{ cluster_id: '', affiliate_id: 'a', ttl: ttl(60) }, 3, /cluster_id is empty/],
    [{ cluster_id: 'c1', affiliate_id: 'eps', affiliate_endpoints: [Buffer.alloc(33)], ttl: ttl(60) }, 3, /an endpoint of 33 bytes/],
    [{ cluster_id: 'c1', affiliate_id: 'many', affiliate_endpoints: [...Array(65).keys()].map((i) => b(`e${i}`)), ttl: ttl(60) }, 8,
      /65 in one update, more than 64/],
  ];
  let all = true; const why = [];
  for (const [req, code, re] of bad) {
    r = await call(c, 'AffiliateUpdate', req);
    if (!r.err || r.err.code !== code || !re.test(r.err.details)) { all = false; why.push(r.err ? `${r.err.code} ${r.err.details}` : 'accepted'); }
  }
  r = await call(c, 'List', { cluster_id: 'c1' });
  ok(all && r.res && ids(r.res.affiliates) === 'n1',
    'oversized data, TTL over 30 min or missing, ids too long or empty, endpoints too big or too many: refused, naming which and why; nothing kept', why);

  // The 65th endpoint of one affiliate, over several updates: refused whole.
  for (let i = 0; i < 64; i += 16) {
    await call(c, 'AffiliateUpdate', { cluster_id: 'c2', affiliate_id: 'e', ttl: ttl(60),
      affiliate_endpoints: [...Array(16).keys()].map((k) => b(`ep${i + k}`)) });
  }
  r = await call(c, 'AffiliateUpdate', { cluster_id: 'c2', affiliate_id: 'e', ttl: ttl(60), affiliate_endpoints: [b('one-more'), b('ep0')] });
  const l2 = await call(c, 'List', { cluster_id: 'c2' });
  ok(r.err && r.err.code === 8 && /more than 64 endpoints/.test(r.err.details) && l2.res.affiliates[0].endpoints.length === 64,
    'an affiliate at 64 endpoints: one more is RESOURCE_EXHAUSTED and it keeps its 64', r.err || l2.res);

  // 1,024 affiliates in a cluster, then the next refused; another cluster goes on.
  const jobs = [];
  for (let i = 0; i < 1024; i++) jobs.push(call(c, 'AffiliateUpdate', { cluster_id: 'full', affiliate_id: `a${i}`, affiliate_data: b('d'), ttl: ttl(60) }));
  const res = await Promise.all(jobs);
  r = await call(c, 'AffiliateUpdate', { cluster_id: 'full', affiliate_id: 'a1024', affiliate_data: b('d'), ttl: ttl(60) });
  const other = await call(c, 'AffiliateUpdate', { cluster_id: 'c1', affiliate_id: 'n3', affiliate_data: b('d'), ttl: ttl(60) });
  ok(res.every((x) => !x.err) && r.err && r.err.code === 8 && /the cluster has 1024 affiliates, 1024 allowed/.test(r.err.details) && !other.err,
    'a cluster holds 1,024 affiliates; the next is RESOURCE_EXHAUSTED, and another cluster is not affected',
    (res.find((x) => x.err) || {}).err || r.err || other.err);

  // A watcher that stops reading while the cluster changes is dropped; the others go on.
  const big = Buffer.alloc(2000, 7);
  const slow = watch(c, 'busy');
  await slow.waitFor((m) => m.length >= 1);
  slow.call.pause();
  const fast = watch(c, 'busy');
  await fast.waitFor((m) => m.length >= 1);
  for (let round = 0; round < 4; round++) {
    const u = [];
    for (let i = 0; i < 100; i++) u.push(call(c, 'AffiliateUpdate', { cluster_id: 'busy', affiliate_id: `b${i}`,
      affiliate_data: Buffer.concat([big, b(`${round}`)]), ttl: ttl(60) }));
    await Promise.all(u);
  }
  const heard = await fast.waitFor((m) => m.filter((x) => x.affiliates.length && x.affiliates[0].data.length === 2001).length >= 400, 10000);
  slow.call.resume();
  const dropped = await slow.waitFor(() => slow.ended !== null, 10000);
  ok(heard && dropped && slow.ended.code === 8 && /fell behind/.test(slow.ended.details || ''),
    `a watcher that stops reading is dropped (RESOURCE_EXHAUSTED, "${slow.ended && slow.ended.details}") while another hears all 400 changes`,
    { heard, fast: fast.msgs.length, ended: slow.ended });

  r = await new Promise((resolve) => c.makeUnaryRequest('/sidero.discovery.server.Cluster/Nope', (x) => x, (x) => x,
    Buffer.alloc(0), (err, res) => resolve({ err, res })));
  ok(r.err && r.err.code === 12, 'a method the service does not have: UNIMPLEMENTED', r.err);

  // The rate limit: this registry allows 5 requests at once from an address, then 5 a second.
  const lc = client(limited);
  const burst = await Promise.all([...Array(20).keys()].map(() => call(lc, 'List', { cluster_id: 'c' })));
  const refused = burst.filter((x) => x.err && x.err.code === 8 && /rate limit/.test(x.err.details)).length;
  await sleep(1100);
  r = await call(lc, 'List', { cluster_id: 'c' });
  ok(refused >= 10 && refused <= 15 && !r.err, `rate limit: ${refused} of 20 requests at once refused (RESOURCE_EXHAUSTED), served again a second later`, r.err);

  const tc = client(tlsEndpoint, grpc.credentials.createSsl(fs.readFileSync(caFile)));
  r = await call(tc, 'Hello', { cluster_id: 'c1', client_version: 'test' });
  ok(!r.err && r.res.client_ip.length === 4, 'over TLS (the registry\'s certificate verified against its CA): Hello answers', r.err);

  for (const x of [w, w2, fast, slow]) x.call.cancel();
  c.close(); lc.close(); tc.close();
}

main().then(() => process.exit(failed ? 1 : 0), (e) => { console.log(`not ok - the client threw: ${e.stack}`); process.exit(1); });
