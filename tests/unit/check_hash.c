/* check_hash: SHA-256 (FIPS 180-2 examples) and HMAC-SHA-256 (RFC 4231). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "testlib.h"

static const struct {
	const char	*msg;
	const char	*hex;
} sha_cases[] = {
	{ "abc",
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	/* 896-bit message from FIPS 180-2 appendix (two blocks of padding) */
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
};

START_TEST(test_sha256)
{
	unsigned char	 md[HASH_LEN];
	char		 hex[HASH_HEX_LEN];
	const char	*m = sha_cases[_i].msg;

	hash_sha256(m, strlen(m), md);
	hash_hex(md, sizeof(md), hex);
	ck_assert_str_eq(hex, sha_cases[_i].hex);
}
END_TEST

START_TEST(test_sha256_split)
{
	struct hash_ctx	 c;
	unsigned char	 md[HASH_LEN];
	char		 hex[HASH_HEX_LEN];
	const char	*m = sha_cases[_i].msg;
	size_t		 len = strlen(m), cut;

	/* Every split point must give the same digest as one update. */
	for (cut = 0; cut <= len; cut++) {
		hash_init(&c);
		hash_update(&c, m, cut);
		hash_update(&c, m + cut, len - cut);
		hash_final(&c, md);
		hash_hex(md, sizeof(md), hex);
		ck_assert_str_eq(hex, sha_cases[_i].hex);
	}
}
END_TEST

START_TEST(test_million_a)
{
	static const size_t	 sizes[] = { 1, 3, 7, 63, 64, 65, 127, 1000 };
	struct hash_ctx		 c;
	unsigned char		 md[HASH_LEN];
	char			 hex[HASH_HEX_LEN], *a;
	size_t			 done = 0, n, k = 0;

	a = malloc(1000);
	ck_assert_ptr_nonnull(a);
	memset(a, 'a', 1000);
	hash_init(&c);
	while (done < 1000000) {
		n = sizes[k++ % (sizeof(sizes) / sizeof(sizes[0]))];
		if (n > 1000000 - done)
			n = 1000000 - done;
		hash_update(&c, a, n);
		done += n;
	}
	hash_final(&c, md);
	hash_hex(md, sizeof(md), hex);
	ck_assert_str_eq(hex,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}
END_TEST

static const struct {
	unsigned char	 keybyte;	/* 0: use keystr */
	size_t		 keylen;
	const char	*keystr;
	unsigned char	 databyte;	/* 0: use datastr */
	size_t		 datalen;
	const char	*datastr;
	const char	*hex;
} hmac_cases[] = {
	/* RFC 4231 test case 1 */
	{ 0x0b, 20, NULL, 0, 0, "Hi There",
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	/* 2 */
	{ 0, 0, "Jefe", 0, 0, "what do ya want for nothing?",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	/* 3 */
	{ 0xaa, 20, NULL, 0xdd, 50, NULL,
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	/* 6: key longer than a block is hashed first */
	{ 0xaa, 131, NULL, 0, 0,
	  "Test Using Larger Than Block-Size Key - Hash Key First",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	/* 7 */
	{ 0xaa, 131, NULL, 0, 0,
	  "This is a test using a larger than block-size key and a larger "
	  "than block-size data. The key needs to be hashed before being "
	  "used by the HMAC algorithm.",
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

START_TEST(test_hmac)
{
	unsigned char	 key[200], data[200], md[HASH_LEN];
	char		 hex[HASH_HEX_LEN];
	size_t		 keylen, datalen;

	if (hmac_cases[_i].keystr != NULL) {
		keylen = strlen(hmac_cases[_i].keystr);
		memcpy(key, hmac_cases[_i].keystr, keylen);
	} else {
		keylen = hmac_cases[_i].keylen;
		memset(key, hmac_cases[_i].keybyte, keylen);
	}
	if (hmac_cases[_i].datastr != NULL) {
		datalen = strlen(hmac_cases[_i].datastr);
		memcpy(data, hmac_cases[_i].datastr, datalen);
	} else {
		datalen = hmac_cases[_i].datalen;
		memset(data, hmac_cases[_i].databyte, datalen);
	}
	hash_hmac(key, keylen, data, datalen, md);
	hash_hex(md, sizeof(md), hex);
	ck_assert_str_eq(hex, hmac_cases[_i].hex);
}
END_TEST

START_TEST(test_hex_equal)
{
	unsigned char	 a[4] = { 0x00, 0x7f, 0x80, 0xff }, b[4];
	char		 hex[9];

	hash_hex(a, sizeof(a), hex);
	ck_assert_str_eq(hex, "007f80ff");
	hash_hex(a, 0, hex);
	ck_assert_str_eq(hex, "");
	memcpy(b, a, sizeof(a));
	ck_assert_int_eq(hash_equal(a, b, sizeof(a)), 1);
	ck_assert_int_eq(hash_equal(a, b, 0), 1);
	b[3] ^= 0x01;
	ck_assert_int_eq(hash_equal(a, b, sizeof(a)), 0);
	b[3] = a[3];
	b[0] = 0x80;
	ck_assert_int_eq(hash_equal(a, b, sizeof(a)), 0);
}
END_TEST


static Suite *
hash_suite(void)
{
	Suite	*s = suite_create("hash");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_sha256, 0, NELEM(sha_cases));
	tcase_add_loop_test(tc, test_sha256_split, 0, NELEM(sha_cases));
	tcase_add_test(tc, test_million_a);
	tcase_add_loop_test(tc, test_hmac, 0, NELEM(hmac_cases));
	tcase_add_test(tc, test_hex_equal);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tl_run(hash_suite());
}
