/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "machined/platform/cloudinit.h"

static int meta(const char *text, struct platform_metadata *md, char *err)
{
	memset(md, 0, sizeof(*md));
	return cloudinit_meta_parse(text, strlen(text), md, err, 512);
}

static void test_meta(void **state)
{
	struct platform_metadata md;
	char err[512];

	(void)state;
	assert_int_equal(meta("instance-id: iid-local01\nlocal-hostname: cloudimg\nother: [1, 2]\n", &md, err), 0);
	assert_string_equal(md.instance_id, "iid-local01");
	assert_string_equal(md.hostname, "cloudimg");
	/* JSON, and hostname when there is no local-hostname. */
	assert_int_equal(meta("{\"instance-id\": \"i-1\", \"hostname\": \"web.example.com\"}", &md, err), 0);
	assert_string_equal(md.hostname, "web.example.com");
	/* local-hostname wins, wherever it is. */
	assert_int_equal(meta("hostname: b\nlocal-hostname: a\n", &md, err), 0);
	assert_string_equal(md.hostname, "a");
	/* Empty is allowed: nothing known. */
	assert_int_equal(meta("", &md, err), 0);
	assert_string_equal(md.hostname, "");

	assert_int_equal(meta("local-hostname: \"bad name\"\n", &md, err), -1);
	assert_non_null(strstr(err, "is not a host name"));
	assert_string_equal(md.hostname, "");
	assert_int_equal(meta("- a\n- b\n", &md, err), -1);
	assert_non_null(strstr(err, "not a mapping"));
	assert_int_equal(meta("a: [\n", &md, err), -1);
	assert_non_null(strstr(err, "meta-data"));
	/* A value that is not a scalar is not taken. */
	assert_int_equal(meta("local-hostname: [a]\ninstance-id: x\n", &md, err), 0);
	assert_string_equal(md.hostname, "");
	assert_string_equal(md.instance_id, "x");
}

static Basalt__Config__Network *net(const char *text, char *gaps, char *err)
{
	Basalt__Config__Network *n = NULL;

	if (cloudinit_network_parse(text, strlen(text), &n, gaps, 256, err, 512) < 0)
		return NULL;
	return n;
}

static void test_network_v2(void **state)
{
	char gaps[256], err[512];
	Basalt__Config__Network *n;
	Basalt__Config__Interface *i;

	(void)state;
	n = net("network:\n  version: 2\n  ethernets:\n    id0:\n      match:\n        macaddress: \"52:54:00:AB:CD:EF\"\n"
		"      set-name: eth0\n      addresses: [10.0.2.20/24, \"fd00::20/64\"]\n      gateway4: 10.0.2.2\n"
		"      mtu: 1450\n      routes:\n        - to: 192.168.0.0/16\n          via: 10.0.2.1\n          metric: 50\n"
		"      nameservers:\n        addresses: [10.0.2.3]\n        search: [example.com]\n    eth1:\n      dhcp4: true\n"
		"  bonds: {}\n",
		gaps, err);
	assert_non_null(n);
	assert_int_equal(n->n_interfaces, 2);
	i = n->interfaces[0];
	assert_null(i->interface);
	assert_string_equal(i->deviceselector->hardwareaddr, "52:54:00:ab:cd:ef");
	assert_int_equal(i->n_addresses, 2);
	assert_string_equal(i->addresses[1], "fd00::20/64");
	assert_int_equal(i->mtu, 1450);
	assert_int_equal(i->n_routes, 2);
	assert_null(i->routes[0]->network);
	assert_string_equal(i->routes[0]->gateway, "10.0.2.2");
	assert_string_equal(i->routes[1]->network, "192.168.0.0/16");
	assert_int_equal(i->routes[1]->metric, 50);
	assert_false(i->has_dhcp);
	assert_string_equal(n->interfaces[1]->interface, "eth1");
	assert_true(n->interfaces[1]->dhcp);
	assert_int_equal(n->n_nameservers, 1);
	assert_string_equal(n->searchdomains[0], "example.com");
	assert_non_null(strstr(gaps, "set-name"));
	assert_non_null(strstr(gaps, "bonds"));
	protobuf_c_message_free_unpacked(&n->base, NULL);

	assert_null(net("version: 2\nethernets:\n  eth0:\n    addresses: [10.0.0.300/24]\n", gaps, err));
	assert_non_null(strstr(err, "10.0.0.300/24"));
	assert_null(net("version: 2\nethernets:\n  eth0:\n    match: {macaddress: zz}\n", gaps, err));
	assert_non_null(strstr(err, "not a MAC address"));
	assert_null(net("version: 3\n", gaps, err));
	assert_non_null(strstr(err, "only versions 1 and 2"));
	assert_null(net("version: 2\nethernets: [a]\n", gaps, err));
}

static void test_network_v1(void **state)
{
	char gaps[256], err[512];
	Basalt__Config__Network *n;
	Basalt__Config__Interface *i;

	(void)state;
	n = net("version: 1\nconfig:\n  - type: physical\n    name: eth0\n    mac_address: \"52:54:00:12:34:56\"\n"
		"    subnets:\n      - type: static\n        address: 192.168.1.10\n        netmask: 255.255.255.0\n"
		"        gateway: 192.168.1.1\n        dns_nameservers: [192.168.1.2]\n        routes:\n"
		"          - {network: 10.0.0.0, netmask: 255.0.0.0, gateway: 192.168.1.254}\n      - type: dhcp6\n"
		"  - type: nameserver\n    address: 1.1.1.1\n    search: [lan]\n  - type: bond\n    name: bond0\n",
		gaps, err);
	assert_non_null(n);
	assert_int_equal(n->n_interfaces, 1);
	i = n->interfaces[0];
	assert_string_equal(i->deviceselector->hardwareaddr, "52:54:00:12:34:56");
	assert_string_equal(i->addresses[0], "192.168.1.10/24");
	assert_int_equal(i->n_routes, 2);
	assert_string_equal(i->routes[1]->network, "10.0.0.0/8");
	assert_true(i->dhcp);
	assert_true(i->dhcpoptions->ipv6);
	assert_false(i->dhcpoptions->ipv4);
	assert_int_equal(n->n_nameservers, 2);
	assert_string_equal(n->nameservers[1], "1.1.1.1");
	assert_non_null(strstr(gaps, "bond"));
	protobuf_c_message_free_unpacked(&n->base, NULL);

	assert_null(net("version: 1\nconfig:\n  - type: physical\n    name: \"a b\"\n", gaps, err));
	assert_non_null(strstr(err, "not a link name"));
	assert_null(net("version: 1\n", gaps, err));
	assert_non_null(strstr(err, "a list of entries"));
}

static void test_openstack_meta(void **state)
{
	struct platform_metadata md;
	char err[512];
	const char *j = "{\"uuid\": \"83679162-1378-4288-a2d4-70e13ec132aa\", \"name\": \"web\", "
			"\"hostname\": \"web.novalocal\", \"availability_zone\": \"nova\", \"meta\": {\"k\": \"v\"},"
			" \"public_keys\": {\"mykey\": \"ssh-ed25519 AAAA\"}}";

	(void)state;
	memset(&md, 0, sizeof(md));
	assert_int_equal(cloudinit_openstack_meta_parse(j, strlen(j), &md, err, sizeof(err)), 0);
	assert_string_equal(md.instance_id, "83679162-1378-4288-a2d4-70e13ec132aa");
	assert_string_equal(md.hostname, "web.novalocal");
	assert_string_equal(md.zone, "nova");
	/* name when there is no hostname */
	memset(&md, 0, sizeof(md));
	j = "{\"name\": \"db\"}";
	assert_int_equal(cloudinit_openstack_meta_parse(j, strlen(j), &md, err, sizeof(err)), 0);
	assert_string_equal(md.hostname, "db");
	j = "{\"hostname\": \"a;b\"}";
	assert_int_equal(cloudinit_openstack_meta_parse(j, strlen(j), &md, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "meta_data.json: \"a;b\" is not a host name"));
	/* A field that fails leaves all of md as it was: no host name unchecked. */
	memset(&md, 0, sizeof(md));
	j = "{\"uuid\": \"u\", \"hostname\": \"a b#c\", \"availability_zone\": "
	    "\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"}";
	assert_int_equal(cloudinit_openstack_meta_parse(j, strlen(j), &md, err, sizeof(err)), -1);
	assert_string_equal(md.hostname, "");
	assert_string_equal(md.instance_id, "");
	j = "{\"uuid\": ";
	assert_int_equal(cloudinit_openstack_meta_parse(j, strlen(j), &md, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "meta_data.json"));
}

static Basalt__Config__Network *osnet(const char *text, char *gaps, char *err)
{
	Basalt__Config__Network *n = NULL;

	if (cloudinit_openstack_network_parse(text, strlen(text), &n, gaps, 256, err, 512) < 0)
		return NULL;
	return n;
}

static void test_openstack_network(void **state)
{
	char gaps[256], err[512];
	Basalt__Config__Network *n;
	Basalt__Config__Interface *i;

	(void)state;
	n = osnet("{\"links\": [{\"id\": \"tap1\", \"type\": \"ovs\", \"ethernet_mac_address\": \"FA:16:3E:00:00:01\","
		  " \"mtu\": 1442}, {\"id\": \"tap2\", \"type\": \"phy\", \"ethernet_mac_address\": \"fa:16:3e:00:00:02\","
		  " \"mtu\": null}, {\"id\": \"bond0\", \"type\": \"bond\", \"bond_links\": [\"tap1\"]}],"
		  " \"networks\": [{\"id\": \"n0\", \"type\": \"ipv4\", \"link\": \"tap1\", \"ip_address\": \"10.0.0.5\","
		  " \"netmask\": \"255.255.255.0\", \"routes\": [{\"network\": \"0.0.0.0\", \"netmask\": \"0.0.0.0\","
		  " \"gateway\": \"10.0.0.1\"}, {\"network\": \"192.168.0.0\", \"netmask\": \"255.255.0.0\", \"gateway\":"
		  " \"10.0.0.254\"}]}, {\"id\": \"n1\", \"type\": \"ipv6\", \"link\": \"tap1\", \"ip_address\": \"2001:db8::5\","
		  " \"netmask\": \"ffff:ffff:ffff:ffff::\", \"services\": [{\"type\": \"dns\", \"address\": \"2001:db8::53\"}]},"
		  " {\"id\": \"n2\", \"type\": \"ipv4_dhcp\", \"link\": \"tap2\"}, {\"id\": \"n3\", \"type\": \"ipv4\","
		  " \"link\": \"bond0\", \"ip_address\": \"10.1.0.5\", \"netmask\": \"255.255.255.0\"}],"
		  " \"services\": [{\"type\": \"dns\", \"address\": \"10.0.0.2\"}, {\"type\": \"ntp\", \"address\": \"x\"}]}",
		  gaps, err);
	assert_non_null(n);
	assert_int_equal(n->n_interfaces, 2);
	i = n->interfaces[0];
	assert_string_equal(i->deviceselector->hardwareaddr, "fa:16:3e:00:00:01");
	assert_int_equal(i->mtu, 1442);
	assert_int_equal(i->n_addresses, 2);
	assert_string_equal(i->addresses[0], "10.0.0.5/24");
	assert_string_equal(i->addresses[1], "2001:db8::5/64");
	assert_int_equal(i->n_routes, 2);
	assert_null(i->routes[0]->network);
	assert_string_equal(i->routes[0]->gateway, "10.0.0.1");
	assert_string_equal(i->routes[1]->network, "192.168.0.0/16");
	assert_false(i->has_dhcp);
	assert_false(n->interfaces[1]->has_mtu);
	assert_true(n->interfaces[1]->dhcp);
	assert_int_equal(n->n_nameservers, 2);
	assert_string_equal(n->nameservers[0], "2001:db8::53");
	assert_string_equal(n->nameservers[1], "10.0.0.2");
	assert_non_null(strstr(gaps, "bond links"));
	assert_non_null(strstr(gaps, "networks on links not applied"));
	protobuf_c_message_free_unpacked(&n->base, NULL);

	/* A netmask that is not one, an address that is not one, a MAC that is not one. */
	assert_null(osnet("{\"links\": [{\"id\": \"t\", \"ethernet_mac_address\": \"fa:16:3e:00:00:01\"}], \"networks\":"
			  " [{\"type\": \"ipv4\", \"link\": \"t\", \"ip_address\": \"10.0.0.5\", \"netmask\": \"255.0.255.0\"}]}",
			  gaps, err));
	assert_non_null(strstr(err, "network_data.json: address \"10.0.0.5/255.0.255.0\""));
	assert_null(osnet("{\"links\": [{\"id\": \"t\", \"ethernet_mac_address\": \"fa:16:3e:00:00:01\"}], \"networks\":"
			  " [{\"type\": \"ipv4\", \"link\": \"t\", \"ip_address\": \"10.0.0.500\", \"netmask\": \"255.0.0.0\"}]}",
			  gaps, err));
	assert_null(osnet("{\"links\": [{\"id\": \"t\", \"ethernet_mac_address\": \"zz\"}]}", gaps, err));
	assert_non_null(strstr(err, "not a MAC address"));
	/* Nova names each subnet's DNS servers in the network and again at the top: kept once. */
	n = osnet("{\"links\": [{\"id\": \"a\", \"ethernet_mac_address\": \"fa:16:3e:00:00:01\"}, {\"id\": \"b\","
		  " \"ethernet_mac_address\": \"fa:16:3e:00:00:02\"}], \"networks\": ["
		  "{\"type\": \"ipv4_dhcp\", \"link\": \"a\", \"services\": [{\"type\": \"dns\", \"address\": \"10.0.0.2\"},"
		  " {\"type\": \"dns\", \"address\": \"10.0.0.3\"}, {\"type\": \"dns\", \"address\": \"10.0.0.4\"}]},"
		  "{\"type\": \"ipv4_dhcp\", \"link\": \"b\", \"services\": [{\"type\": \"dns\", \"address\": \"10.0.0.2\"},"
		  " {\"type\": \"dns\", \"address\": \"10.0.0.3\"}, {\"type\": \"dns\", \"address\": \"10.0.0.4\"}]}],"
		  " \"services\": [{\"type\": \"dns\", \"address\": \"10.0.0.2\"}, {\"type\": \"dns\", \"address\": \"10.0.0.3\"},"
		  " {\"type\": \"dns\", \"address\": \"10.0.0.4\"}]}",
		  gaps, err);
	assert_non_null(n);
	assert_int_equal(n->n_nameservers, 3);
	protobuf_c_message_free_unpacked(&n->base, NULL);
	assert_null(osnet("[1, 2]", gaps, err));
	assert_non_null(strstr(err, "not a mapping"));
	assert_null(osnet("{\"services\": [{\"type\": \"dns\", \"address\": \"8.8.8\"}]}", gaps, err));
	assert_non_null(strstr(err, "not an IP address"));
}

static void test_imds(void **state)
{
	struct platform_metadata md;
	char err[512], tok[IMDS_TOKEN_MAX + 1];
	const char *v;

	(void)state;
	memset(&md, 0, sizeof(md));
	assert_int_equal(imds_value(IMDS_INSTANCE_ID, "i-0abc\n", 7, &md, err, sizeof(err)), 0);
	assert_string_equal(md.instance_id, "i-0abc");
	v = "ip-10-0-0-5.ec2.internal";
	assert_int_equal(imds_value(IMDS_HOSTNAME, v, strlen(v), &md, err, sizeof(err)), 0);
	assert_string_equal(md.hostname, v);
	assert_int_equal(imds_value(IMDS_ZONE, "eu-west-1b", 10, &md, err, sizeof(err)), 0);
	assert_string_equal(md.zone, "eu-west-1b");
	assert_int_equal(imds_value(IMDS_PUBLIC_IPV4, "203.0.113.7", 11, &md, err, sizeof(err)), 0);
	assert_int_equal(imds_value(IMDS_PUBLIC_IPV4, "203.0.113.7", 11, &md, err, sizeof(err)), 0);
	assert_int_equal(imds_value(IMDS_IPV6, "2001:db8::7", 11, &md, err, sizeof(err)), 0);
	assert_int_equal(md.n_external, 2);
	assert_string_equal(md.external[1], "2001:db8::7");
	/* Not what the path says, more than one word, control characters, too long: refused, md kept. */
	assert_int_equal(imds_value(IMDS_PUBLIC_IPV4, "2001:db8::7", 11, &md, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is not an IPv4 address"));
	assert_int_equal(imds_value(IMDS_HOSTNAME, "a b", 3, &md, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/latest/meta-data/local-hostname: not one word"));
	assert_int_equal(imds_value(IMDS_HOSTNAME, "a;b", 3, &md, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is not a host name"));
	assert_int_equal(imds_value(IMDS_REGION, "eu\x1b", 3, &md, err, sizeof(err)), -1);
	assert_int_equal(imds_value(IMDS_REGION, "", 0, &md, err, sizeof(err)), -1);
	{
		char big[100];

		memset(big, 'x', sizeof(big));
		assert_int_equal(imds_value(IMDS_ZONE, big, sizeof(big), &md, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "longer than 63"));
	}
	assert_string_equal(md.hostname, "ip-10-0-0-5.ec2.internal");
	assert_string_equal(md.zone, "eu-west-1b");

	assert_int_equal(imds_token("AQAEA-x_y==\n", 12, tok, err, sizeof(err)), 0);
	assert_string_equal(tok, "AQAEA-x_y==");
	assert_int_equal(imds_token("a\r\nX-Evil: 1", 12, tok, err, sizeof(err)), -1);
	assert_int_equal(imds_token("a:b", 3, tok, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a token"));
}

/* The container platform's USERDATA: found among other entries (the first one, as getenv),
 * decoded, and refused by name when empty or not base64. */
static void test_container_userdata(void **state)
{
	static const char env[] = "PATH=/bin\0USERDATA=dmVyc2lvbjogdjFhbHBoYTEK\0HOSTNAME=n1\0USERDATA=bm90IHRoaXM=\0";
	static const char cut[] = "PATH=/bin\0USERDATA=dmVyc2lvbjogdjFhbHBoYTEK";
	static const char none[] = "PATH=/bin\0USERDATAX=eA==\0";
	static const char bad[] = "USERDATA=!!!!\0";
	static const char empty[] = "USERDATA=\0";
	char *out = NULL, err[256];
	size_t len = 0;

	(void)state;
	assert_int_equal(container_userdata(env, sizeof(env) - 1, &out, &len, err, sizeof(err)), 1);
	assert_string_equal(out, "version: v1alpha1\n");
	assert_int_equal(len, 18);
	free(out);
	/* Not NUL-terminated at the end (a block cut short) is read to its length only. */
	assert_int_equal(container_userdata(cut, sizeof(cut) - 1, &out, &len, err, sizeof(err)), 1);
	assert_string_equal(out, "version: v1alpha1\n");
	free(out);
	assert_int_equal(container_userdata(none, sizeof(none) - 1, &out, &len, err, sizeof(err)), 0);
	assert_null(out);
	assert_int_equal(container_userdata(bad, sizeof(bad) - 1, &out, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not base64"));
	assert_int_equal(container_userdata(empty, sizeof(empty) - 1, &out, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta),
		cmocka_unit_test(test_network_v2),
		cmocka_unit_test(test_network_v1),
		cmocka_unit_test(test_openstack_meta),
		cmocka_unit_test(test_openstack_network),
		cmocka_unit_test(test_imds),
		cmocka_unit_test(test_container_userdata),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
