/*
 * chain.c - the symmetric-key chain of stage 2 (chain.h).
 */
#include "chain.h"
#include "hkdf.h"

#include <string.h>
#include <sodium.h>

uint8_t *
chain_put_field(uint8_t *p, const uint8_t *f, size_t len)
{
	*p++ = (uint8_t)(len >> 8);
	*p++ = (uint8_t)len;
	if (len > 0)
		memcpy(p, f, len);
	return p + len;
}

int
chain_kdf_ck(uint8_t mk[32], uint8_t ck[32])
{
	static const uint8_t one = 0x01, two = 0x02;
	uint8_t next[32];
	int rc = 0;

	if (crypto_auth_hmacsha256(mk, &one, 1, ck) != 0 ||
	    crypto_auth_hmacsha256(next, &two, 1, ck) != 0)
		rc = -1;
	else
		memcpy(ck, next, 32);
	sodium_memzero(next, sizeof next);
	return rc;
}

int
chain_msg_keys(uint8_t kn[56], const uint8_t mk[32], const char *label, size_t label_len)
{
	return chat_hkdf_sha256(kn, 56, NULL, 0, mk, 32, (const uint8_t *)label, label_len) == 0
		       ? 0
		       : -1;
}
