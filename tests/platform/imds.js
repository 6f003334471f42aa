// SPDX-License-Identifier: MIT
// An EC2 instance metadata service (IMDSv2) of the test's own, on 169.254.169.254:80 in
// the test's network namespace: PUT /latest/api/token (with the TTL header) gives a token,
// good for USES requests; a GET without a good token is answered 401. It serves an
// instance's meta-data (no ipv6: 404) and FILE as its user-data, the first user-data GET
// with a 503. Each request is logged to LOG: method, path, and for a GET whether its token
// was good ("token"), stale or missing ("401"). USES v1: an IMDSv1 service (the token PUT
// answered 405, GETs served without a token, logged "no-token").
//   node imds.js FILE LOG USES|v1
'use strict';
const http = require('http');
const fs = require('fs');
const [file, log, uses] = process.argv.slice(2);
const meta = {
	'/latest/meta-data/instance-id': 'i-0abc1234def567890',
	'/latest/meta-data/instance-type': 't3.small',
	'/latest/meta-data/local-hostname': 'ip-10-0-0-5.eu-west-1.compute.internal',
	'/latest/meta-data/placement/region': 'eu-west-1',
	'/latest/meta-data/placement/availability-zone': 'eu-west-1b',
	'/latest/meta-data/public-ipv4': '203.0.113.7',
};
let token = null, left = 0, serial = 0, userGets = 0;

function serve(req, res) {
	if (req.url === '/latest/user-data') {
		if (userGets++ === 0) {
			res.writeHead(503);
			return res.end();
		}
		res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
		return res.end(fs.readFileSync(file));
	}
	if (meta[req.url] !== undefined) {
		res.writeHead(200, { 'Content-Type': 'text/plain' });
		return res.end(meta[req.url]);
	}
	res.writeHead(404);
	res.end();
}

const server = http.createServer((req, res) => {
	const say = (what) => fs.appendFileSync(log, `${req.method} ${req.url} ${what}\n`);
	if (uses === 'v1' || req.method !== 'PUT' || req.url !== '/latest/api/token') {
		if (req.method !== 'GET') {
			say('405');
			res.writeHead(405);
			return res.end();
		}
		if (uses === 'v1') {
			say(req.headers['x-aws-ec2-metadata-token'] ? 'token' : 'no-token');
			return serve(req, res);
		}
		if (!token || req.headers['x-aws-ec2-metadata-token'] !== token || left <= 0) {
			say('401');
			res.writeHead(401);
			return res.end();
		}
		left--;
		say('token');
		return serve(req, res);
	}
	const ttl = req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
	if (!ttl || !/^[0-9]+$/.test(ttl)) {
		say('no-ttl');
		res.writeHead(400);
		return res.end();
	}
	token = `AQAEA-basalt-${++serial}-${ttl}==`;
	left = Number(uses);
	say(`ttl=${ttl}`);
	res.writeHead(200, { 'X-aws-ec2-metadata-token-ttl-seconds': ttl });
	res.end(token);
});
server.listen(80, '169.254.169.254');
