/* SPDX-License-Identifier: MIT */
/*
 * The machine API's tables against what they describe: each method of lib/apidef.c's
 * table is the .proto service's method of that name, with the same request and response
 * messages, and every service method is in the table; each row of the type registry is
 * whole (its index, a spec, columns naming fields of that spec, aliases no other type has).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/machine.pb-c.h"
#include "api/resource.pb-c.h"
#include "api/security.pb-c.h"
#include "lib/apidef.h"
#include "lib/restypes.h"

static const ProtobufCServiceDescriptor *const services[] = {
	&basalt__machine__machine_service__descriptor,
	&basalt__resource__resource_service__descriptor,
	&basalt__security__security_service__descriptor,
};
#define NSERVICES (sizeof(services) / sizeof(services[0]))

static void test_methods_match_the_protos(void **state)
{
	size_t in_services = 0;
	char path[256];

	(void)state;
	assert_int_equal(api_nmethods, API_NMETHODS);
	for (size_t i = 0; i < API_NMETHODS; i++) {
		const struct api_method *m = &api_methods[i];
		const ProtobufCMethodDescriptor *md = NULL;

		assert_non_null(m->path);
		for (size_t s = 0; s < NSERVICES && !md; s++) {
			snprintf(path, sizeof(path), "/%s/%s", services[s]->name, m->name);
			if (strcmp(path, m->path) == 0)
				md = protobuf_c_service_descriptor_get_method_by_name(services[s], m->name);
		}
		if (!md)
			fail_msg("%s: no method of that path in the .proto services", m->path);
		assert_ptr_equal(md->input, m->request);
		assert_ptr_equal(md->output, m->response);
		assert_ptr_equal(api_method_find(m->path), m);
	}
	for (size_t s = 0; s < NSERVICES; s++)
		in_services += services[s]->n_methods;
	assert_int_equal(in_services, API_NMETHODS);
}

static void test_registry_rows_whole(void **state)
{
	(void)state;
	for (size_t i = 0; i < RES_NTYPES; i++) {
		const struct res_type *t = &res_types[i];

		assert_int_equal(t->index, i);
		assert_ptr_equal(res_all[i], t);
		assert_non_null(t->spec);
		assert_ptr_equal(res_type_of(t->ns, t->type), t);
		assert_ptr_equal(res_type_find(t->type), t);
		/* Sorted by namespace, then type: the order listings and dumps use. */
		if (i > 0) {
			int c = strcmp(res_types[i - 1].ns, t->ns);

			assert_true(c < 0 || (c == 0 && strcmp(res_types[i - 1].type, t->type) < 0));
		}
		for (size_t c = 0; c < RES_COLUMNS_MAX && t->columns[c].title; c++)
			if (!protobuf_c_message_descriptor_get_field_by_name(t->spec, t->columns[c].field))
				fail_msg("%s: column %s names no field of %s", t->type, t->columns[c].field, t->spec->name);
		for (size_t a = 0; a < RES_ALIASES_MAX && t->aliases[a]; a++) {
			for (const char *p = t->aliases[a]; *p; p++)
				assert_false(isupper((unsigned char)*p));
			/* Each alias names this type and no other. */
			assert_ptr_equal(res_type_find(t->aliases[a]), t);
		}
	}
	assert_null(res_type_find("nosuchtype"));
	assert_true(RES(MACHINE_CONFIG)->sensitive);
	assert_true(res_field_secret("basalt.config.CertAndKey", "key"));
	assert_false(res_field_secret("basalt.config.CertAndKey", "crt"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_methods_match_the_protos),
		cmocka_unit_test(test_registry_rows_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
