// SPDX-License-Identifier: MIT
// A config server that misbehaves on purpose, for the metal platform's fetch: each GET is
// logged (method, path) to LOG, and answered by the next step of SCRIPT, one per request,
// the last repeated: "cut" (a Content-Length the body falls short of, then the connection
// closed), "503", "404", "invalid" (a config that does not validate), "good" (FILE).
//   node server.js PORT FILE LOG STEP...
'use strict';
const http = require('http');
const fs = require('fs');
const [port, file, log, ...steps] = process.argv.slice(2);
let n = 0;
const server = http.createServer((req, res) => {
	const step = steps[Math.min(n++, steps.length - 1)];
	fs.appendFileSync(log, `${req.method} ${req.url} ${step}\n`);
	if (step === 'cut') {
		const body = fs.readFileSync(file);
		res.writeHead(200, { 'Content-Length': body.length });
		res.write(body.subarray(0, body.length >> 1));
		setTimeout(() => req.socket.destroy(), 100);
	} else if (step === 'invalid') {
		res.writeHead(200, { 'Content-Type': 'application/yaml' });
		res.end('version: v1alpha1\nmachine:\n  type: wroker\n');
	} else if (step === 'good') {
		res.writeHead(200, { 'Content-Type': 'application/yaml' });
		res.end(fs.readFileSync(file));
	} else {
		res.writeHead(Number(step));
		res.end('no\n');
	}
});
server.listen(Number(port), '127.0.0.1');
