// SPDX-License-Identifier: MIT
// machined's API from @grpc/grpc-js with @grpc/proto-loader: Version, List and Watch over
// mutual TLS with a client certificate, and a refused call without the right role.
// Prints TAP lines ("ok - ..." / "not ok - ...").
// With an os:impersonator certificate: x-basalt-role honoured only from it, and a request
// it forwarded never forwarded again.
//   node client.js ENDPOINT CA CRT KEY READER_CRT READER_KEY IMP_CRT IMP_KEY
'use strict';
const fs = require('fs');
const path = require('path');
const tls = require('tls');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const [endpoint, caFile, crtFile, keyFile, rcrt, rkey, icrt, ikey] = process.argv.slice(2);
const root = path.resolve(__dirname, '../..');
const def = loader.loadSync('api/machine.proto', {
  includeDirs: [root], keepCase: true, longs: String, enums: String, defaults: true,
});
const pkg = grpc.loadPackageDefinition(def).basalt;
const api = pkg.machine;
let failed = 0;
const ok = (c, what, detail) => {
  if (c) console.log(`ok - interop: ${what}`);
  else { failed++; console.log(`not ok - interop: ${what}`); if (detail) console.log(`#   ${detail}`); }
};
const creds = (crt, key) => grpc.credentials.createSsl(
  fs.readFileSync(caFile), fs.readFileSync(key), fs.readFileSync(crt));
// The TLS version of every connection grpc-js makes (it dials through tls.connect).
const protocols = [];
const realConnect = tls.connect;
tls.connect = function connect(...args) {
  const sock = realConnect.apply(this, args);
  sock.once('secureConnect', () => protocols.push(sock.getProtocol()));
  return sock;
};
const deadline = () => new Date(Date.now() + 10000);

function unary(client, method, req) {
  return new Promise((resolve) => client[method](req, { deadline: deadline() }, (err, res) => resolve({ err, res })));
}

function collect(stream, stopAfter) {
  return new Promise((resolve) => {
    const msgs = [];
    stream.on('data', (m) => { msgs.push(m); if (stopAfter && stopAfter(m)) stream.cancel(); });
    stream.on('error', (err) => resolve({ msgs, err }));
    stream.on('end', () => resolve({ msgs, err: null }));
  });
}

async function main() {
  const machine = new api.MachineService(endpoint, creds(crtFile, keyFile));
  const resources = new pkg.resource.ResourceService(endpoint, creds(crtFile, keyFile));

  const v = await unary(machine, 'Version', {});
  ok(!v.err && v.res.messages.length === 1 && v.res.messages[0].name === 'Basalt' && !v.res.messages[0].maintenance,
    'Version (unary, mutual TLS)', v.err ? v.err.message : JSON.stringify(v.res));

  ok(protocols.length === 1 && protocols[0] === 'TLSv1.3', `grpc-js (OpenSSL) connects with TLS 1.3: ${protocols.join(', ')}`);

  // Forced to TLS 1.2 (an older client), the same call works.
  const ctx12 = tls.createSecureContext({
    ca: fs.readFileSync(caFile), key: fs.readFileSync(keyFile), cert: fs.readFileSync(crtFile), maxVersion: 'TLSv1.2',
  });
  const m12 = new api.MachineService(endpoint, grpc.credentials.createFromSecureContext(ctx12));
  const v12 = await unary(m12, 'Version', {});
  ok(!v12.err && v12.res.messages[0].name === 'Basalt' && protocols[1] === 'TLSv1.2',
    `grpc-js forced to TLS 1.2 calls Version over ${protocols[1]}`, v12.err ? v12.err.message : '');
  m12.close();

  const l = await collect(resources.List({ type: 'services' }, { deadline: deadline() }));
  const ids = l.msgs.map((m) => m.meta.id).sort();
  ok(!l.err && ids.includes('containerd') && ids.includes('machined') &&
     l.msgs.every((m) => m.meta.type === 'Service' && m.spec_type === 'basalt.runtime.Service' && m.spec_yaml.includes('state:')),
    `List services (server stream): ${ids.join(', ')}`, l.err ? l.err.message : JSON.stringify(l.msgs[0]));

  const w = await collect(resources.Watch({ type: 'MachineStatus' }), (m) => m.type === 'BOOTSTRAPPED');
  const kinds = w.msgs.map((m) => m.type);
  ok(kinds[0] === 'CREATED' && kinds[kinds.length - 1] === 'BOOTSTRAPPED' && w.err && w.err.code === grpc.status.CANCELLED,
    `Watch (created, then bootstrapped, then cancelled by us): ${kinds.join(', ')}`, w.err ? w.err.message : 'ended');

  const g = await unary(resources, 'Get', { type: 'MachineStatus', id: 'nosuch' });
  ok(g.err && g.err.code === grpc.status.NOT_FOUND && /not found/.test(g.err.details),
    'Get of a missing resource: NOT_FOUND with grpc-message', g.err ? `${g.err.code} ${g.err.details}` : 'no error');

  const md = (pairs) => { const m = new grpc.Metadata(); for (const [k, v] of Object.entries(pairs)) m.set(k, v); return m; };
  const call = (client, method, meta) => new Promise((resolve) =>
    client[method]({}, meta, { deadline: deadline() }, (err, res) => resolve({ err, res })));
  const denied = (r, re) => r.err && r.err.code === grpc.status.PERMISSION_DENIED && re.test(r.err.details);
  const detail = (r) => (r.err ? `${r.err.code} ${r.err.details}` : 'allowed!');

  const reader = new api.MachineService(endpoint, creds(rcrt, rkey));
  let r = await unary(reader, 'Reboot', {});
  ok(denied(r, /os:operator/), 'Reboot as os:reader: PERMISSION_DENIED', detail(r));
  r = await call(reader, 'Reboot', md({ 'x-basalt-role': 'os:admin' }));
  ok(denied(r, /grants os:reader/), 'x-basalt-role from a reader certificate is ignored (Reboot still denied)', detail(r));
  reader.close();

  const imp = new api.MachineService(endpoint, creds(icrt, ikey));
  r = await call(imp, 'Version', md({}));
  ok(denied(r, /grants no role/), 'an impersonator without x-basalt-role has no role', detail(r));
  r = await call(imp, 'Version', md({ 'x-basalt-role': 'os:reader' }));
  ok(!r.err && r.res.messages[0].name === 'Basalt', 'an impersonator acting for a reader may call Version', r.err && detail(r));
  r = await call(imp, 'Reboot', md({ 'x-basalt-role': 'os:reader' }));
  ok(denied(r, /grants os:reader/), 'an impersonator acting for a reader may not Reboot', detail(r));
  r = await call(imp, 'Version', md({ 'x-basalt-role': 'os:admin', nodes: endpoint }));
  ok(r.err && r.err.code === grpc.status.INVALID_ARGUMENT && /cannot be forwarded again/.test(r.err.details),
    'a forwarded request is never forwarded again', detail(r));
  imp.close();
  // The node's own caps on the nodes header, whatever the client: 32 nodes, 1,023 bytes.
  const many = Array.from({ length: 33 }, (_, i) => `10.255.0.${i + 1}`).join(',');
  r = await call(machine, 'Version', md({ nodes: many }));
  ok(r.err && r.err.code === grpc.status.INVALID_ARGUMENT && /more than 32 nodes/.test(r.err.details),
    'a nodes header with 33 nodes: INVALID_ARGUMENT, nothing forwarded', detail(r));
  const long = Array.from({ length: 80 }, (_, i) => `fd00:0:0:0:0:0:1:${(i + 1).toString(16)}`).join(',');
  r = await call(machine, 'Version', md({ nodes: long }));
  ok(r.err && r.err.code === grpc.status.INVALID_ARGUMENT && /bytes, more than 1023/.test(r.err.details),
    'a nodes header over 1,023 bytes: INVALID_ARGUMENT, not cut to another address', detail(r));
  // A malformed list (a name, a cut address, one node twice, nothing) is refused whole.
  const bad = [['10.0.0.1,node-b', /node-b is not an IP address/], ['10.0.0.1,fd00::1:', /fd00::1: is not an IP address/],
    ['10.0.0.1,10.0.0.1', /10\.0\.0\.1 is named twice/], [',', /no node named/]];
  let refusedAll = true, why = '';
  for (const [list, re] of bad) {
    r = await call(machine, 'Version', md({ nodes: list }));
    if (!(r.err && r.err.code === grpc.status.INVALID_ARGUMENT && re.test(r.err.details))) { refusedAll = false; why = `${list}: ${detail(r)}`; }
  }
  ok(refusedAll, 'a malformed nodes header (a name, a cut address, a node twice, none): INVALID_ARGUMENT naming it', why);
  // A confirm of a try that is not in progress (never made, or rolled back) changes nothing.
  const before = await unary(resources, 'Get', { type: 'MachineConfig', id: 'v1alpha1' });
  r = await unary(machine, 'ApplyConfiguration', { data: Buffer.from('machine:\n  type: worker\n'), mode: 'NO_REBOOT', confirm_try: true });
  const after = await unary(resources, 'Get', { type: 'MachineConfig', id: 'v1alpha1' });
  ok(r.err && r.err.code === grpc.status.FAILED_PRECONDITION && /no try of this config is in progress/.test(r.err.details) &&
     !before.err && !after.err && before.res.messages[0].spec_yaml === after.res.messages[0].spec_yaml,
    'ApplyConfiguration confirming a try that is not in progress: FAILED_PRECONDITION, the config unchanged', detail(r));
  const t = await unary(machine, 'Version', {});
  ok(!t.err, 'the connection is still good after a cancelled stream');
  machine.close();
  resources.close();
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.log(`not ok - interop: ${e.message}`); process.exit(1); });
