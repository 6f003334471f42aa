/* SPDX-License-Identifier: MIT */
/*
 * osctl pxe serve: boots machines on a network over PXE. On the interface given it runs
 * dnsmasq (started, configured and stopped by this command) for DHCP, in full mode or, when
 * another DHCP server already answers on the link, in proxy mode beside it, and for TFTP
 * (iPXE for firmware that is not iPXE); and serves over HTTP itself the iPXE script, the
 * kernel, the initramfs and a machine config per MAC (configs/<mac>.yaml, else
 * configs/default.yaml). A line for each machine and what it fetched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <stdarg.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/http.h"
#include "lib/loop.h"
#include "lib/spawn.h"
#include "osctl/osctl.h"

#define PXE_CONNS_MAX 64

struct pxe;

struct pxeconn {
	struct pxe *p;
	int fd, file;
	struct loop_watch *w;
	struct buf in, out;
	off_t off, size;
	char peer[INET_ADDRSTRLEN];
	char what[320];
	struct pxeconn *next;
};

struct pxe {
	struct loop *loop;
	const char *ifname, *assets, *configs, *dnsmasq_bin;
	char addr[INET_ADDRSTRLEN];
	unsigned prefix;
	uint16_t port;
	bool proxy;
	char other[INET_ADDRSTRLEN];    /* the DHCP server that answered, in proxy mode */
	int lfd;
	struct loop_watch *lw;
	pid_t dnsmasq;
	int dlog;
	struct loop_watch *dw;
	struct buf dbuf;
	char tmp[64];
	char script[1024];
	struct pxeconn *conns;
	size_t nconns;
	int status;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	time_t now = time(NULL);
	char ts[16];

	strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
	printf("%s pxe: ", ts);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* The interface's first IPv4 address and prefix. */
static int if_addr(struct pxe *p)
{
	struct ifaddrs *ifa, *i;
	int found = -1;

	if (getifaddrs(&ifa) < 0)
		return -1;
	for (i = ifa; i && found < 0; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp(i->ifa_name, p->ifname) != 0)
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, p->addr, sizeof(p->addr));
		p->prefix = (unsigned)__builtin_popcount(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
		found = 0;
	}
	freeifaddrs(ifa);
	return found;
}

/* --- is another DHCP server on the link? --- */

bool pxe_is_offer(const uint8_t *r, size_t n, uint32_t xid)
{
	if (n < 240 || r[0] != 2 || memcmp(r + 4, &xid, 4) != 0 || memcmp(r + 236, "\x63\x82\x53\x63", 4) != 0)
		return false;
	/* option 53 (message type) = 2 (OFFER) among the options, each length checked */
	for (size_t i = 240; i < n && r[i] != 0xff;) {
		if (r[i] == 0) {
			i++;
			continue;
		}
		if (i + 1 >= n || i + 2 + r[i + 1] > n)
			return false;
		if (r[i] == 53 && r[i + 1] == 1 && r[i + 2] == 2)
			return true;
		i += 2 + (size_t)r[i + 1];
	}
	return false;
}

/*
 * A DHCPDISCOVER (RFC 2131) from this interface, broadcast, with the broadcast flag so the
 * offer comes back to 255.255.255.255: 1 with p->other set when an offer for it arrives
 * within wait_ms, 0 when none does, -1 when the probe cannot be sent.
 */
static int dhcp_probe(struct pxe *p, int wait_ms)
{
	uint8_t m[300] = { 1, 1, 6, 0 }, r[1500];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(67), .sin_addr.s_addr = INADDR_BROADCAST };
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(68) };
	uint32_t xid;
	int fd, one = 1, got = 0;
	uint64_t end;

	if (getrandom(&xid, sizeof(xid), GRND_NONBLOCK) != sizeof(xid))
		xid = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	memcpy(m + 4, &xid, 4);
	m[10] = 0x80;  /* broadcast */
	/* chaddr: a locally administered address of our own, so no real machine's lease moves */
	memcpy(m + 28, "\x02\x42\x61\x73\x61\x6c", 6);
	memcpy(m + 236, "\x63\x82\x53\x63", 4);
	memcpy(m + 240, "\x35\x01\x01\x37\x02\x01\x03\xff", 8);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, p->ifname, (socklen_t)strlen(p->ifname)) < 0 ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    sendto(fd, m, sizeof(m), 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		close(fd);
		return -1;
	}
	end = mono_ms() + (uint64_t)wait_ms;
	while (!got && mono_ms() < end) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&pf, 1, (int)(end - mono_ms())) <= 0)
			continue;
		n = recvfrom(fd, r, sizeof(r), 0, (struct sockaddr *)&from, &fl);
		if (n > 0 && pxe_is_offer(r, (size_t)n, xid)) {
			inet_ntop(AF_INET, &from.sin_addr, p->other, sizeof(p->other));
			got = 1;
		}
	}
	close(fd);
	return got;
}

/* --- dnsmasq --- */

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int link_asset(struct pxe *p, const char *name, const char *as)
{
	char from[512], to[512];

	snprintf(from, sizeof(from), "%s/%s", p->assets, name);
	snprintf(to, sizeof(to), "%s/tftp/%s", p->tmp, as);
	if (access(from, R_OK) != 0)
		return -1;
	return symlink(from, to);
}

static void on_dnsmasq_log(void *arg, uint32_t events)
{
	struct pxe *p = arg;
	ssize_t n = buf_read_fd(&p->dbuf, p->dlog, 65536);
	uint8_t *nl;

	(void)events;
	while ((nl = memchr(buf_head(&p->dbuf), '\n', p->dbuf.len))) {
		*nl = '\0';
		if (nl > buf_head(&p->dbuf))
			say("%s", (char *)buf_head(&p->dbuf));
		buf_consume(&p->dbuf, (size_t)(nl - buf_head(&p->dbuf)) + 1);
	}
	if (n == 0 || (n < 0 && n != -EAGAIN)) {
		loop_watch_del(p->loop, p->dw);
		p->dw = NULL;
		int st = 0;

		if (waitpid(p->dnsmasq, &st, 0) == p->dnsmasq)
			p->dnsmasq = 0;
		say("dnsmasq exited (status %d): stopping", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		p->status = 1;
		loop_stop(p->loop);
	}
}

static int start_dnsmasq(struct pxe *p)
{
	char conf[4096], path[600], base[96], err[256];
	char *argv[] = { (char *)p->dnsmasq_bin, "--keep-in-foreground", "--log-facility=-", NULL, NULL };
	struct in_addr a;
	uint32_t net, lo, hi;
	int pipefd[2];
	size_t n = 0;

	snprintf(base, sizeof(base), "http://%s:%u", p->addr, p->port);
	inet_pton(AF_INET, p->addr, &a);
	net = ntohl(a.s_addr) & (p->prefix ? ~0u << (32 - p->prefix) : 0);
	n += (size_t)snprintf(conf + n, sizeof(conf) - n,
			      "port=0\ninterface=%s\nbind-interfaces\nno-resolv\nno-hosts\nleasefile-ro\n"
			      "dhcp-authoritative\n"
			      "dhcp-userclass=set:ipxe,iPXE\n"
			      "dhcp-match=set:efi64,option:client-arch,7\ndhcp-match=set:efi64,option:client-arch,9\n"
			      "dhcp-boot=tag:ipxe,%s/boot.ipxe\n"
			      "enable-tftp\ntftp-root=%s/tftp\n",
			      p->ifname, base, p->tmp);
	if (p->proxy) {
		struct in_addr na = { htonl(net) };
		char nets[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &na, nets, sizeof(nets));
		n += (size_t)snprintf(conf + n, sizeof(conf) - n,
				      "dhcp-range=%s,proxy\n"
				      "pxe-service=tag:!ipxe,x86PC,\"Basalt (BIOS)\",undionly\n"
				      "pxe-service=tag:!ipxe,X86-64_EFI,\"Basalt (UEFI)\",ipxe\n", nets);
	} else {
		struct in_addr la, ha, ma = { htonl(p->prefix ? ~0u << (32 - p->prefix) : 0) };
		char los[INET_ADDRSTRLEN], his[INET_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
		uint32_t size = p->prefix < 31 ? 1u << (32 - p->prefix) : 0;

		if (size < 8) {
			fprintf(stderr, "osctl: pxe serve: %s/%u is too small a network to give addresses in\n", p->addr,
				p->prefix);
			return -1;
		}
		/* The upper half of the network, past the server's own address range. */
		lo = net + size / 2;
		hi = net + size - 2;
		la.s_addr = htonl(lo);
		ha.s_addr = htonl(hi);
		inet_ntop(AF_INET, &la, los, sizeof(los));
		inet_ntop(AF_INET, &ha, his, sizeof(his));
		inet_ntop(AF_INET, &ma, mask, sizeof(mask));
		n += (size_t)snprintf(conf + n, sizeof(conf) - n,
				      "dhcp-range=%s,%s,%s,1h\n"
				      "dhcp-option=option:router\ndhcp-option=option:dns-server\n"
				      "dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi\n"
				      "dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe\n",
				      los, his, mask);
		say("full DHCP on %s: addresses %s to %s", p->ifname, los, his);
	}
	snprintf(path, sizeof(path), "%s/tftp", p->tmp);
	mkdir(path, 0755);
	link_asset(p, "undionly.kpxe", "undionly.kpxe");
	link_asset(p, "undionly.kpxe", "undionly.0");
	link_asset(p, "ipxe.efi", "ipxe.efi");
	link_asset(p, "ipxe.efi", "ipxe.0");
	snprintf(path, sizeof(path), "%s/dnsmasq.conf", p->tmp);
	if (write_file(path, conf) < 0) {
		fprintf(stderr, "osctl: pxe serve: %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(conf, sizeof(conf), "--conf-file=%s", path);
	argv[3] = conf;
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	struct spawn_opts so = { .argv = argv, .stdin_fd = -1, .stdout_fd = pipefd[1], .stderr_fd = pipefd[1] };

	if (spawn(&so, &p->dnsmasq, err, sizeof(err)) < 0) {
		fprintf(stderr, "osctl: pxe serve: dnsmasq: %s (Debian package dnsmasq-base)\n", err);
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	close(pipefd[1]);
	p->dlog = pipefd[0];
	buf_init(&p->dbuf);
	return loop_watch_add(p->loop, p->dlog, EPOLLIN, on_dnsmasq_log, p, &p->dw);
}

/* --- HTTP --- */

static void conn_close(struct pxeconn *c)
{
	struct pxe *p = c->p;

	for (struct pxeconn **pp = &p->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	p->nconns--;
	loop_watch_del(p->loop, c->w);
	close(c->fd);
	if (c->file >= 0)
		close(c->file);
	buf_fini(&c->in);
	buf_fini(&c->out);
	free(c);
}

static void respond(struct pxeconn *c, int status, const char *reason, const char *type, off_t len, bool head)
{
	char h[256];
	int n = snprintf(h, sizeof(h),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %lld\r\nConnection: close\r\n\r\n",
			 status, reason, type, (long long)len);

	buf_append(&c->out, h, (size_t)n);
	if (head && c->file >= 0) {
		close(c->file);
		c->file = -1;
	}
	c->size = head ? 0 : c->size;
	loop_watch_mod(c->p->loop, c->w, EPOLLOUT);
}

static void respond_text(struct pxeconn *c, int status, const char *reason, const char *body, bool head)
{
	respond(c, status, reason, "text/plain", (off_t)strlen(body), head);
	if (!head)
		buf_append(&c->out, body, strlen(body));
}

/* A file to send; false when it is not there. */
static bool open_file(struct pxeconn *c, const char *path)
{
	struct stat st;

	c->file = open(path, O_RDONLY | O_CLOEXEC);
	if (c->file < 0)
		return false;
	if (fstat(c->file, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(c->file);
		c->file = -1;
		return false;
	}
	c->size = st.st_size;
	c->off = 0;
	return true;
}

static bool mac_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (const char *c = s; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') || (*c >= 'A' && *c <= 'F') || *c == ':' ||
		      *c == '-'))
			return false;
	return true;
}

static void route(struct pxeconn *c, const struct http_req *r)
{
	/* Files of the assets folder by URL path: what iPXE boots, and what a machine
	 * installing from a PXE boot takes, named as on the ISO (/install/boot/...). */
	static const struct {
		const char *path, *asset, *what;
	} files[] = {
		{ "/vmlinuz", "/vmlinuz", "" },
		{ "/initramfs.xz", "/initramfs.xz", "" },
		{ "/undionly.kpxe", "/undionly.kpxe", "" },
		{ "/ipxe.efi", "/ipxe.efi", "" },
		{ "/install/boot/vmlinuz", "/vmlinuz", "install: " },
		{ "/install/boot/initramfs.xz", "/initramfs.xz", "install: " },
		{ "/install/boot/disk/grub.cfg", "/disk/grub.cfg", "install: " },
		{ "/install/boot/disk/core.img", "/disk/core.img", "install: " },
		{ "/install/boot/disk/boot.img", "/disk/boot.img", "install: " },
		{ "/install/boot/disk/BOOTX64.EFI", "/disk/BOOTX64.EFI", "install: " },
	};
	struct pxe *p = c->p;
	bool head = strcmp(r->method, "HEAD") == 0;
	char path[600], name[80];

	snprintf(c->what, sizeof(c->what), "%.300s", r->path);
	if (strcmp(r->path, "/boot.ipxe") == 0) {
		respond(c, 200, "OK", "text/plain", (off_t)strlen(p->script), head);
		if (!head)
			buf_append(&c->out, p->script, strlen(p->script));
		say("%s: iPXE script", c->peer);
		return;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (strcmp(r->path, files[i].path) == 0) {
			snprintf(path, sizeof(path), "%s%s", p->assets, files[i].asset);
			if (!open_file(c, path)) {
				say("%s: %s: not in %s (make pxe writes it)", c->peer, r->path, p->assets);
				respond_text(c, 404, "Not Found", "no such asset\n", head);
				return;
			}
			respond(c, 200, "OK", "application/octet-stream", c->size, head);
			say("%s: %ssending %s (%lld bytes)", c->peer, files[i].what, r->path, (long long)c->size);
			return;
		}
	if (strncmp(r->path, "/configs/", 9) == 0 && strlen(r->path) > 14 &&
	    strcmp(r->path + strlen(r->path) - 5, ".yaml") == 0) {
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(r->path) - 14), r->path + 9);
		if (mac_name(name) && p->configs) {
			for (char *x = name; *x; x++)
				*x = (char)(*x >= 'A' && *x <= 'F' ? *x - 'A' + 'a' : *x == '-' ? ':' : *x);
			snprintf(path, sizeof(path), "%s/%s.yaml", p->configs, name);
			if (!open_file(c, path)) {
				snprintf(path, sizeof(path), "%s/default.yaml", p->configs);
				open_file(c, path);
			}
			if (c->file >= 0) {
				respond(c, 200, "OK", "application/yaml", c->size, head);
				say("%s (%s): machine config %s (%lld bytes)", c->peer, name, path, (long long)c->size);
				return;
			}
			say("%s (%s): no config for it: add %s/%s.yaml or %s/default.yaml (the node waits in "
			    "maintenance mode, asking again)", c->peer, name, p->configs, name, p->configs);
		}
		respond_text(c, 404, "Not Found", "no config for this machine\n", head);
		return;
	}
	say("%s: %s: not served", c->peer, r->path);
	respond_text(c, 404, "Not Found", "not found\n", head);
}

static void on_conn(void *arg, uint32_t events)
{
	struct pxeconn *c = arg;
	struct http_req r;
	char err[128];
	int status = 400, rc;
	ssize_t n;

	if (events & EPOLLIN) {
		n = buf_read_fd(&c->in, c->fd, HTTP_HEAD_MAX + 1);
		if (n == 0 || (n < 0 && n != -EAGAIN)) {
			conn_close(c);
			return;
		}
		rc = http_req_parse((const char *)buf_head(&c->in), c->in.len, &r, &status, err, sizeof(err));
		if (rc < 0) {
			say("%s: bad request: %s", c->peer, err);
			respond_text(c, status, "Bad Request", "bad request\n", false);
		} else if (rc > 0) {
			route(c, &r);
		}
		return;
	}
	if (events & (EPOLLERR | EPOLLHUP)) {
		conn_close(c);
		return;
	}
	if (c->out.len) {
		n = buf_write_fd(&c->out, c->fd);
		if (n < 0 && n != -EAGAIN) {
			conn_close(c);
			return;
		}
		if (c->out.len)
			return;
	}
	if (c->file >= 0 && c->off < c->size) {
		n = sendfile(c->fd, c->file, &c->off, (size_t)(c->size - c->off < (1 << 20) ? c->size - c->off : 1 << 20));
		if (n < 0 && errno != EAGAIN) {
			say("%s: %s: cut off after %lld bytes: %s", c->peer, c->what, (long long)c->off, strerror(errno));
			conn_close(c);
			return;
		}
		if (c->off < c->size)
			return;
		say("%s: sent %s", c->peer, c->what);
	}
	shutdown(c->fd, SHUT_WR);
	conn_close(c);
}

static void on_accept(void *arg, uint32_t events)
{
	struct pxe *p = arg;
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	struct pxeconn *c;
	int fd;

	(void)events;
	while ((fd = accept4(p->lfd, (struct sockaddr *)&from, &fl, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (p->nconns >= PXE_CONNS_MAX || !(c = calloc(1, sizeof(*c)))) {
			close(fd);
			continue;
		}
		c->p = p;
		c->fd = fd;
		c->file = -1;
		buf_init(&c->in);
		buf_init(&c->out);
		inet_ntop(AF_INET, &from.sin_addr, c->peer, sizeof(c->peer));
		if (loop_watch_add(p->loop, fd, EPOLLIN, on_conn, c, &c->w) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = p->conns;
		p->conns = c;
		p->nconns++;
		fl = sizeof(from);
	}
}

static int listen_http(struct pxe *p)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(p->port) };
	int one = 1;

	inet_pton(AF_INET, p->addr, &a.sin_addr);
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->lfd < 0 || setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(p->lfd, 64) < 0) {
		fprintf(stderr, "osctl: pxe serve: HTTP on %s:%u: %s\n", p->addr, p->port, strerror(errno));
		return -1;
	}
	return loop_watch_add(p->loop, p->lfd, EPOLLIN, on_accept, p, &p->lw);
}

static void on_stop_signal(void *arg, const struct signalfd_siginfo *si)
{
	struct pxe *p = arg;

	say("signal %u: stopping", si->ssi_signo);
	loop_stop(p->loop);
}

static void cleanup(struct pxe *p)
{
	char path[600];

	if (p->dnsmasq > 0) {
		kill(p->dnsmasq, SIGTERM);
		waitpid(p->dnsmasq, NULL, 0);
	}
	while (p->conns)
		conn_close(p->conns);
	if (p->tmp[0]) {
		static const char *const names[] = { "tftp/undionly.kpxe", "tftp/undionly.0", "tftp/ipxe.efi",
						     "tftp/ipxe.0", "dnsmasq.conf" };

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", p->tmp, names[i]);
			unlink(path);
		}
		snprintf(path, sizeof(path), "%s/tftp", p->tmp);
		rmdir(path);
		rmdir(p->tmp);
	}
}

int cmd_pxe(struct osc *o, int argc, char **argv)
{
	static const char *const tv[] = { "--interface", "-i", "--assets", "--configs", "--port", "--dhcp",
					  "--dnsmasq", NULL };
	const char *action = osc_positional(argc, argv, 0, tv), *v, *mode;
	struct pxe p = { .assets = "_out/pxe", .port = 8080, .dnsmasq_bin = "/usr/sbin/dnsmasq", .lfd = -1,
			 .dlog = -1 };
	char abs_assets[512], abs_configs[512];
	int r;

	(void)o;
	if (!action || strcmp(action, "serve") != 0 || !(p.ifname = osc_opt(argc, argv, "--interface", "-i"))) {
		fprintf(stderr, "usage: osctl pxe serve --interface IF [--assets DIR] [--configs DIR] [--port 8080]\n"
				"       [--dhcp auto|full|proxy] [--dnsmasq PATH]\n");
		return 2;
	}
	if ((v = osc_opt(argc, argv, "--assets", NULL)))
		p.assets = v;
	if ((v = osc_opt(argc, argv, "--configs", NULL)))
		p.configs = v;
	if ((v = osc_opt(argc, argv, "--port", NULL))) {
		long port = strtol(v, NULL, 10);

		if (port <= 0 || port > 65535) {
			fprintf(stderr, "osctl: pxe serve: --port %s: want 1 to 65535\n", v);
			return 2;
		}
		p.port = (uint16_t)port;
	}
	if ((v = osc_opt(argc, argv, "--dnsmasq", NULL)))
		p.dnsmasq_bin = v;
	mode = osc_opt(argc, argv, "--dhcp", NULL);
	if (!mode)
		mode = "auto";
	if (strcmp(mode, "auto") != 0 && strcmp(mode, "full") != 0 && strcmp(mode, "proxy") != 0) {
		fprintf(stderr, "osctl: pxe serve: --dhcp %s: want auto, full or proxy\n", mode);
		return 2;
	}
	if (!realpath(p.assets, abs_assets)) {
		fprintf(stderr, "osctl: pxe serve: --assets %s: %s (make pxe writes _out/pxe)\n", p.assets, strerror(errno));
		return 1;
	}
	p.assets = abs_assets;
	if (p.configs) {
		if (!realpath(p.configs, abs_configs)) {
			fprintf(stderr, "osctl: pxe serve: --configs %s: %s\n", p.configs, strerror(errno));
			return 1;
		}
		p.configs = abs_configs;
	}
	if (if_addr(&p) < 0) {
		fprintf(stderr, "osctl: pxe serve: %s has no IPv4 address to serve on\n", p.ifname);
		return 1;
	}
	if (strcmp(mode, "auto") == 0) {
		r = dhcp_probe(&p, 3000);
		if (r < 0)
			say("cannot ask for other DHCP servers on %s (%s): full DHCP", p.ifname, strerror(errno));
		else if (r > 0)
			say("another DHCP server answers on %s (%s): proxy DHCP beside it", p.ifname, p.other);
		else
			say("no other DHCP server answered on %s within 3 s: full DHCP", p.ifname);
		p.proxy = r > 0;
	} else {
		p.proxy = strcmp(mode, "proxy") == 0;
	}
	snprintf(p.script, sizeof(p.script),
		 "#!ipxe\n"
		 "echo Basalt: ${mac} boots from http://%s:%u\n"
		 "kernel http://%s:%u/vmlinuz console=tty0 console=ttyS0,115200 basalt.platform=metal "
		 "basalt.config=http://%s:%u/configs/${mac}.yaml basalt.install.source=http://%s:%u/install/\n"
		 "initrd http://%s:%u/initramfs.xz\n"
		 "boot\n",
		 p.addr, p.port, p.addr, p.port, p.addr, p.port, p.addr, p.port, p.addr, p.port);
	snprintf(p.tmp, sizeof(p.tmp), "/tmp/osctl-pxe.XXXXXX");
	if (!mkdtemp(p.tmp) || chmod(p.tmp, 0755) < 0) {
		fprintf(stderr, "osctl: pxe serve: a temporary directory: %s\n", strerror(errno));
		return 1;
	}
	r = loop_new(&p.loop) < 0 ? -1 : 0;
	if (r == 0)
		r = listen_http(&p);
	if (r == 0)
		r = start_dnsmasq(&p);
	if (r == 0) {
		loop_signal(p.loop, SIGINT, on_stop_signal, &p);
		loop_signal(p.loop, SIGTERM, on_stop_signal, &p);
		say("serving %s on %s (%s/%u): HTTP on port %u, %s DHCP, TFTP; configs from %s", p.assets, p.ifname,
		    p.addr, p.prefix, p.port, p.proxy ? "proxy" : "full", p.configs ? p.configs : "(none: maintenance mode)");
		loop_run(p.loop);
	}
	cleanup(&p);
	if (p.loop)
		loop_free(p.loop);
	if (p.lfd >= 0)
		close(p.lfd);
	return r < 0 ? 1 : p.status;
}
