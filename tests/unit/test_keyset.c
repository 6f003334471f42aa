/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/keyset.h"

struct ent {
	char key[12];   /* the key: zero-padded text */
	int value;
};

static void key_of(char k[12], unsigned v)
{
	memset(k, 0, 12);
	snprintf(k, 12, "k%u", v);
}

static void test_add_find(void **state)
{
	struct keyset s;
	char k[12];
	struct ent *e;

	(void)state;
	keyset_init(&s, sizeof(struct ent), sizeof(e->key), 1000);
	key_of(k, 1);
	assert_null(keyset_find(&s, k));
	e = keyset_add(&s, k);
	assert_non_null(e);
	assert_string_equal(e->key, "k1");
	assert_int_equal(e->value, 0);
	e->value = 7;
	assert_ptr_equal(keyset_add(&s, k), e);   /* an existing key: the same entry */
	assert_int_equal(s.n, 1);
	assert_int_equal(((struct ent *)keyset_find(&s, k))->value, 7);
	keyset_del_at(&s, 0);
	assert_null(keyset_find(&s, k));
	assert_int_equal(s.n, 0);
	keyset_fini(&s);
}

static void test_max_holds(void **state)
{
	struct keyset s;
	char k[12];

	(void)state;
	keyset_init(&s, sizeof(struct ent), 12, 100);
	for (unsigned i = 0; i < 100; i++) {
		key_of(k, i);
		assert_non_null(keyset_add(&s, k));
	}
	key_of(k, 100);
	assert_null(keyset_add(&s, k));   /* full: refused, the rest kept */
	key_of(k, 99);
	assert_non_null(keyset_add(&s, k));   /* an existing one still found */
	for (unsigned i = 0; i < 100; i++) {
		key_of(k, i);
		assert_non_null(keyset_find(&s, k));
	}
	keyset_fini(&s);
}

/* Random adds and deletes against a plain array of flags: every key found iff present. */
static void test_against_model(void **state)
{
	enum { KEYS = 3000, OPS = 60000 };
	static bool in[KEYS];
	struct keyset s;
	char k[12];
	unsigned seed = 12345, count = 0;

	(void)state;
	keyset_init(&s, sizeof(struct ent), 12, KEYS);
	for (unsigned op = 0; op < OPS; op++) {
		unsigned v;

		seed = seed * 1103515245u + 12345u;
		v = (seed >> 8) % KEYS;
		key_of(k, v);
		if ((seed >> 4) % 3) {
			struct ent *e = keyset_add(&s, k);

			assert_non_null(e);
			if (!in[v])
				e->value = (int)v;
			count += !in[v];
			in[v] = true;
		} else {
			struct ent *e = keyset_find(&s, k);

			assert_true((e != NULL) == in[v]);
			if (e) {
				keyset_del_at(&s, (size_t)((unsigned char *)e - s.e) / s.esize);
				in[v] = false;
				count--;
			}
		}
		assert_int_equal(s.n, count);
	}
	for (unsigned v = 0; v < KEYS; v++) {
		struct ent *e;

		key_of(k, v);
		e = keyset_find(&s, k);
		assert_true((e != NULL) == in[v]);
		if (e)
			assert_int_equal(e->value, (int)v);
	}
	/* Deleting while walking down, as the controllers do. */
	for (size_t i = s.n; i-- > 0;)
		if (((struct ent *)keyset_at(&s, i))->value % 2)
			keyset_del_at(&s, i);
	for (unsigned v = 0; v < KEYS; v++) {
		key_of(k, v);
		assert_true((keyset_find(&s, k) != NULL) == (in[v] && v % 2 == 0));
	}
	keyset_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_find),
		cmocka_unit_test(test_max_holds),
		cmocka_unit_test(test_against_model),
	};

	return cmocka_run_group_tests_name("keyset", tests, NULL, NULL);
}
