// SPDX-License-Identifier: MIT
// The benchmark's reference: MachineService.Version served by @grpc/grpc-js over mutual
// TLS with the same CA as the node. Prints "listening" when ready.
//   node refserver.js PORT CA SERVER_CRT SERVER_KEY
'use strict';
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const [port, ca, crt, key] = process.argv.slice(2);
const def = loader.loadSync('api/machine.proto', {
  includeDirs: [path.resolve(__dirname, '../..')], keepCase: true, longs: String, enums: String, defaults: true,
});
const api = grpc.loadPackageDefinition(def).basalt.machine;
const os = require('os');
const server = new grpc.Server();
server.addService(api.MachineService.service, {
  Version: (call, cb) => cb(null, {
    messages: [{ version: '0.1.0', name: 'Basalt', kernel: os.release(), arch: os.arch(), hostname: os.hostname() }],
  }),
});
const creds = grpc.ServerCredentials.createSsl(fs.readFileSync(ca),
  [{ private_key: fs.readFileSync(key), cert_chain: fs.readFileSync(crt) }], true);
server.bindAsync(`127.0.0.1:${port}`, creds, (err) => {
  if (err) { console.error(err.message); process.exit(1); }
  console.log('listening');
});
